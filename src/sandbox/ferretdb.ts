// A real MongoDB-wire server for tests and the sandbox: FerretDB (SQLite backend) built by scripts/install-ferretdb.sh.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { spawnManaged, waitUntilListening } from './process.js';

export interface FerretDb {
  /** A MongoDB connection URL, e.g. `mongodb://127.0.0.1:41234/`. */
  url: string;
  port: number;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** Where scripts/install-ferretdb.sh puts the binary. */
export function ferretDbBinary(): string {
  return join(repoRoot, '.cache', 'ferretdb', 'ferretdb');
}

/** Starts FerretDB on a free 127.0.0.1 port with an empty data directory of its own. */
export async function startFerretDb(): Promise<FerretDb> {
  const binary = ferretDbBinary();
  if (!existsSync(binary)) throw new Error(`${binary} not found; run scripts/install-ferretdb.sh`);
  const dataDir = await mkdtemp(join(tmpdir(), 'polyproxy-ferretdb-'));
  const port = await freePort();
  const child = spawnManaged(binary, ['-listen', `127.0.0.1:${port}`, '-sqlite-dir', dataDir]);
  try {
    await waitUntilListening(child, 'ferretdb', port);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `mongodb://127.0.0.1:${port}/`,
    port,
    stop: async () => {
      await child.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
