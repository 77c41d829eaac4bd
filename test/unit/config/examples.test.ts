// Every example config in config/ is valid, and check-config says so.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { checkConfigCommand } from '../../../src/config/check.js';
import { loadConfigFile } from '../../../src/config/load.js';

const dir = fileURLToPath(new URL('../../../config/', import.meta.url));
const examples = readdirSync(dir).filter((name) => name.endsWith('.yaml'));

function capture() {
  const lines: string[] = [];
  return { lines, write: (text: string) => lines.push(text) };
}

describe('example configs', () => {
  it('exist', () => {
    expect(examples).toEqual(expect.arrayContaining(['polyproxy.yaml', 'single.yaml']));
  });

  it.each(examples)('%s parses with an empty environment', (name) => {
    const config = loadConfigFile(`${dir}${name}`, {});
    expect(Object.keys(config.databases).length).toBeGreaterThan(0);
  });

  it('polyproxy.yaml has one shard with replicas and takes the backend password from the environment', () => {
    const app = loadConfigFile(`${dir}polyproxy.yaml`, { PGPASSWORD: 'pg-secret' }).databases.app;
    expect(app.shards).toEqual([
      { primary: '127.0.0.1:5432', replicas: ['127.0.0.1:5433', '127.0.0.1:5434'] },
    ]);
    expect(app.backend.password).toBe('pg-secret');
    expect(app.routing.max_replica_lag).toBe(5_000);
  });
});

describe('checkConfigCommand', () => {
  it('prints a summary and returns 0 for a valid file', async () => {
    const out = capture();
    const err = capture();
    expect(await checkConfigCommand(`${dir}polyproxy.yaml`, {}, out, err)).toBe(0);
    expect(out.lines).toEqual([`${dir}polyproxy.yaml: ok (1 database, 1 user)\n`]);
    expect(err.lines).toEqual([]);
  });

  it('prints each error and returns 1 for an invalid file', async () => {
    const out = capture();
    const err = capture();
    expect(await checkConfigCommand(`${dir}missing.yaml`, {}, out, err)).toBe(1);
    expect(err.lines.join('')).toMatch(/^.*missing\.yaml: cannot read the file: ENOENT/);
    expect(out.lines).toEqual([]);
  });

  it.each(examples)('passes %s, plugin sections included', async (name) => {
    const err = capture();
    expect(await checkConfigCommand(`${dir}${name}`, {}, capture(), err)).toBe(0);
    expect(err.lines).toEqual([]);
  });

  it('names the key path of a bad plugin setting', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pp-check-')), 'bad-plugin.yaml');
    const base = loadConfigFileText();
    writeFileSync(file, `${base}\nplugins:\n  cache: { redis: 5, default_ttl: soon }\n`);
    const err = capture();
    expect(await checkConfigCommand(file, {}, capture(), err)).toBe(1);
    expect(err.lines.join('')).toMatch(/plugins\.cache\.redis: /);
    expect(err.lines.join('')).toMatch(/plugins\.cache\.default_ttl: /);
  });
});

/** single.yaml without a plugins section, as a base to add one to. */
function loadConfigFileText(): string {
  return readFileSync(`${dir}single.yaml`, 'utf8').replace(/^plugins:.*$/m, '');
}
