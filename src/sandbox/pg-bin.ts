// Locates the PostgreSQL server binaries (initdb, pg_ctl, ...), which Debian keeps off the PATH.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const debianRoot = '/usr/lib/postgresql';

function hasServerTools(dir: string): boolean {
  return existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
}

function fromPgConfig(): string | null {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return hasServerTools(dir) ? dir : null;
  } catch {
    return null;
  }
}

function newestDebianVersion(): string | null {
  if (!existsSync(debianRoot)) return null;
  const versions = readdirSync(debianRoot)
    .filter((v) => /^\d+$/.test(v) && hasServerTools(join(debianRoot, v, 'bin')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(debianRoot, versions[0], 'bin') : null;
}

let cached: string | null | undefined;

/** The directory holding initdb and pg_ctl, or null when PostgreSQL is not installed (the sandbox then uses PGlite). */
export function pgBinDir(): string | null {
  if (cached === undefined) cached = fromPgConfig() ?? newestDebianVersion();
  return cached;
}
