// The bench's CPU meter for pgbench runs: the logins before every client is connected are not charged.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptedConnections, steadyCpuMeter } from '../../../src/bench/steady-cpu.js';

const linux = process.platform === 'linux';
const open: net.Socket[] = [];
let server: net.Server | null = null;

afterEach(() => {
  for (const s of open.splice(0)) s.destroy();
  server?.close();
  server = null;
});

async function listen(): Promise<number> {
  server = net.createServer((s) => open.push(s));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function connect(port: number, count: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', resolve).on('error', reject);
          open.push(s);
        }),
    ),
  );
}

/** Spends `ms` of this process's own CPU time (not wall time: a busy machine may give less). */
function spin(ms: number): void {
  const start = process.cpuUsage();
  const spent = () => process.cpuUsage(start).user + process.cpuUsage(start).system;
  while (spent() < ms * 1000);
}

const until = async (done: () => boolean) => {
  for (let i = 0; i < 250 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe('acceptedConnections', () => {
  it.runIf(linux)('counts the accepted side of the established connections on a port', async () => {
    const port = await listen();
    expect(acceptedConnections(port)).toBe(0);
    await connect(port, 3);
    await until(() => open.length === 6);
    expect(acceptedConnections(port)).toBe(3);
  });
});

describe('steadyCpuMeter', () => {
  it.runIf(linux)('charges only the CPU spent once every client is connected, per tps', async () => {
    const port = await listen();
    const meter = steadyCpuMeter([process.pid], port, 2);
    // The "logins": 600 ms of CPU before the clients are all in, which the whole-run meter would charge.
    spin(600);
    const windowStart = performance.now();
    await connect(port, 2);
    // The meter polls every 20 ms: let it see the clients, then work 200 ms in the steady part.
    await new Promise((r) => setTimeout(r, 100));
    spin(200);
    const windowMs = performance.now() - windowStart;
    // 100 transactions in all at 1000 per second: the whole run would read at least 8,000 µs each.
    const perTx = meter.read({ tps: 1000, transactions: 100 })!;
    // At most one core's time per second of the window (plus the runtime's own threads), per 1000 tps.
    expect(perTx).toBeLessThan(1500);
    // At least the 200 ms spun over the window, less a 10 ms /proc tick.
    expect(perTx).toBeGreaterThan(((190 / windowMs) * 1e6) / 1000);
  });

  it.runIf(linux)('charges the whole run per transaction when the clients were never all in', async () => {
    const port = await listen();
    const meter = steadyCpuMeter([process.pid], port, 5);
    spin(300);
    const perTx = meter.read({ tps: 1000, transactions: 100 })!;
    expect(perTx).toBeGreaterThan(2800);
    expect(perTx).toBeLessThan(20_000);
  });

  it('measures nothing without processes', () => {
    expect(steadyCpuMeter([], 1, 1).read({ tps: 10, transactions: 10 })).toBeNull();
  });
});
