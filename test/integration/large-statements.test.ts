// Large statements classified in the parser thread: answers in order, other clients served meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { RawConnection, firstColumns, query } from './helpers/raw-client.js';
import { withClient } from './helpers/tools.js';

let proxy: TestProxy;
beforeAll(async () => {
  proxy = await startTestProxy({ poolSize: 2 });
  await withClient(directConfig(), (c) =>
    c.query('DROP TABLE IF EXISTS big_rows; CREATE TABLE big_rows (n int)'),
  );
});
afterAll(async () => {
  await proxy.close();
  await withClient(directConfig(), (c) => c.query('DROP TABLE IF EXISTS big_rows'));
});

/** A statement of about 1.2 MB: a VALUES list of 150,000 numbers. */
function bigValues(prefix: string, suffix = ''): string {
  const values: string[] = [];
  for (let i = 1; i <= 150_000; i++) values.push(`(${i})`);
  return `${prefix} ${values.join(',')}${suffix}`;
}

describe('a statement too large to classify on the event loop', () => {
  it('is answered in order with the statements pipelined after it, while another client keeps being served', async () => {
    const { conn } = await RawConnection.login(proxy.port, {
      user: 'app',
      password: 'app-secret',
      database: 'app',
    });
    const bystander = await withClient(proxy.client(), async (c) => {
      const big = bigValues('SELECT count(*) FROM (VALUES', ') v(n)');
      expect(big.length).toBeGreaterThan(1_000_000);
      conn.write(Buffer.concat([query(big), query("SELECT 'after' AS marker")]));
      let served = 0;
      const first = conn.untilReady(60_000);
      // The other client's statements keep running while the large one is classified and run.
      for (let i = 0; i < 20; i++) served += (await c.query('SELECT 1 AS one')).rowCount ?? 0;
      const results = [firstColumns(await first), firstColumns(await conn.untilReady(60_000))];
      return { served, results };
    });
    expect(bystander.results).toEqual([['150000'], ['after']]);
    expect(bystander.served).toBe(20);
    conn.end();
  });

  it('sends a large write to the primary and it commits', async () => {
    await withClient(proxy.client(), async (c) => {
      await c.query(bigValues('INSERT INTO big_rows (n) VALUES'));
      expect((await c.query('SELECT count(*)::int AS n FROM big_rows')).rows).toEqual([{ n: 150_000 }]);
    });
  });
});
