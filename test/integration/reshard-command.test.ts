// `polyproxy reshard` over a config file: an unsharded database onto two new shards given by a YAML target,
// each phase printed, verified, streaming until stopped; then --cancel drops the slot.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';
import { reshardCommand } from '../../src/reshard/command.js';
import { client, createDatabases, fill, schemaSql } from './reshard-helpers.js';

it('reshards a configured database from the command line and cancels it', async () => {
  const ctx = inject('pg');
  await createDatabases(['rscmd_old', 'rscmd_n0', 'rscmd_n1']);
  const old = await client('rscmd_old');
  try {
    await old.query(schemaSql);
    await fill([old]);
    const dir = await mkdtemp(join(tmpdir(), 'polyproxy-reshard-'));
    const config = join(dir, 'polyproxy.yaml');
    const target = join(dir, 'target.yaml');
    const address = `${ctx.host}:${ctx.port}`;
    await writeFile(
      config,
      [
        'users: [{ name: app, password: secret }]',
        'databases:',
        '  shop:',
        `    backend: { user: postgres, password: ${JSON.stringify(ctx.password)}, database: rscmd_old }`,
        `    shards: [{ primary: "${address}" }]`,
      ].join('\n'),
    );
    await writeFile(
      target,
      [
        'shards:',
        `  - { primary: "${address}", database: rscmd_n0 }`,
        `  - { primary: "${address}", database: rscmd_n1 }`,
        'sharding: { tables: { items: id, notes: tag }, reference: [countries] }',
      ].join('\n'),
    );
    const lines: string[] = [];
    let verified!: () => void;
    const stopped = new Promise<void>((resolve) => (verified = resolve));
    const io = {
      write: (line: string) => {
        lines.push(line);
        if (line.startsWith('[stream] verified')) verified();
      },
      stopped: () => stopped,
    };
    expect(await reshardCommand(['--config', config, '--database', 'shop', '--to', target], io)).toBe(0);
    const output = lines.join('');
    for (const phase of ['[schema]', '[copy]', '[indexes]', '[stream]', '[verify] 4 tables equal'])
      expect(output).toContain(phase);
    const n0 = await client('rscmd_n0');
    const n1 = await client('rscmd_n1');
    const count = async (c: typeof old) => (await c.query('SELECT count(*)::int AS n FROM items')).rows[0].n;
    expect((await count(n0)) + (await count(n1))).toBe(await count(old));
    expect(await count(n0)).toBeGreaterThan(0);
    expect(await count(n1)).toBeGreaterThan(0);
    await n0.end();
    await n1.end();
    const slot =
      "SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = 'polyproxy_reshard_shop_0'";
    expect((await old.query(slot)).rows[0].n).toBe(1);
    expect(await reshardCommand(['--config', config, '--database', 'shop', '--cancel'], io)).toBe(0);
    expect((await old.query(slot)).rows[0].n).toBe(0);
  } finally {
    await old.end();
  }
}, 120_000);
