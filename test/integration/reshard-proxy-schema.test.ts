// A reshard of a database whose clients ran cross-shard transactions: the proxy's own schema on the first old
// shard (the two-phase decision log) is not a table to move. It was, and the copy failed on the other old
// shards (no schema "polyproxy" there for the publication) as soon as one such transaction had committed.
import { afterAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logger.js';
import { startProxy, type Proxy } from '../../src/proxy.js';
import { Reshard } from '../../src/reshard/reshard.js';
import { freePort } from '../../src/sandbox/ports.js';
import { connect } from './helpers/tools.js';
import {
  client,
  createDatabases,
  fill,
  oldShardOf,
  plan,
  reshardConfigYaml,
  schemaSql,
} from './reshard-helpers.js';

const old = ['rps_old_0', 'rps_old_1'];
const fresh = ['rps_new_0', 'rps_new_1', 'rps_new_2'];
let proxy: Proxy | undefined;

afterAll(async () => {
  await proxy?.close();
});

const decisionLog = "SELECT to_regclass('polyproxy.tx_decisions') IS NOT NULL AS made";

it('moves the tables of a database with a two-phase decision log, and leaves the log behind', async () => {
  await createDatabases([...old, ...fresh]);
  const oldClients = await Promise.all(old.map(client));
  for (const c of oldClients) await c.query(schemaSql);
  await fill(oldClients);
  const port = await freePort();
  proxy = await startProxy(parseConfig(reshardConfigYaml({ listen: port, old, fresh })), {
    logger: silentLogger,
  });
  // Two items on different old shards, written in one transaction: a two-phase commit, logged on shard 0.
  const a = 1;
  const b = [2, 3, 4, 5, 6, 7, 8].find((id) => oldShardOf(id, 2) !== oldShardOf(a, 2))!;
  const app = await connect({
    host: '127.0.0.1',
    port,
    user: 'app',
    password: 'app-secret',
    database: 'app',
  });
  await app.query('BEGIN');
  await app.query('UPDATE items SET v = 500 WHERE id = $1', [a]);
  await app.query('UPDATE items SET v = 501 WHERE id = $1', [b]);
  await app.query('COMMIT');
  await app.end();
  expect((await oldClients[0]!.query(decisionLog)).rows[0].made).toBe(true);
  const reshard = new Reshard(plan('rps', old, fresh), silentLogger);
  try {
    await reshard.start();
    const checks = await reshard.verify();
    expect(checks.map((c) => c.table).sort()).toEqual([
      'public.countries',
      'public.items',
      'public.notes',
      'public.settings',
    ]);
    expect(checks.filter((c) => !c.equal)).toEqual([]);
    const first = await client(fresh[0]!);
    expect((await first.query(decisionLog)).rows[0].made).toBe(false);
    await first.end();
  } finally {
    await reshard.cancel();
    await Promise.all(oldClients.map((c) => c.end()));
  }
}, 120_000);
