// A description of the machine and tool versions, stored with every result so numbers can be compared later.
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import type { BenchEnv } from './bench-env.js';
import { runCommand } from './command.js';

export interface MachineInfo {
  cpuCount: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  pgbench: string;
  pgbouncer: string;
  postgres: string;
  /** 1-minute load average when the bench started; high values mean other work shared the CPUs. */
  loadAverage: number;
}

async function version(cmd: string): Promise<string> {
  try {
    const result = await runCommand(cmd, ['--version'], { timeoutMs: 10_000 });
    return (result.stdout || result.stderr).trim().split('\n')[0] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export async function machineInfo(env: BenchEnv): Promise<MachineInfo> {
  const cpuList = cpus();
  return {
    cpuCount: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    pgbench: await version('pgbench'),
    pgbouncer: await version('pgbouncer'),
    postgres: await env.primary.psql('SHOW server_version'),
    loadAverage: loadavg()[0],
  };
}

/** One line for the table's heading. */
export function machineLine(m: MachineInfo): string {
  return `${m.cpuCount} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}; node ${m.node}; PostgreSQL ${m.postgres}; ${m.pgbench}; ${m.pgbouncer}`;
}
