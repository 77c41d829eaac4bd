// The client login both poolers accept (SCRAM-SHA-256), so pgbench authenticates the same way through each.
import { randomBytes } from 'node:crypto';
import type { BenchEnv } from '../bench-env.js';
import type { Endpoint } from '../pgbench.js';

export const poolerUser = { name: 'bench', password: randomBytes(12).toString('hex') };

export function poolerEndpoint(env: BenchEnv, port: number): Endpoint {
  return {
    host: '127.0.0.1',
    port,
    user: poolerUser.name,
    password: poolerUser.password,
    database: env.direct.database,
  };
}
