// The polyproxy config the sandbox writes for the servers it started, so users can read and reuse it.
import { stringify } from 'yaml';
import type { ConfigInput } from '../config/schema.js';

export const sandboxUser = { name: 'app', password: 'app-secret' };
/** A user of the admin console (database `polyproxy`), so a newcomer can try SHOW POOLS at once. */
export const sandboxAdmin = { name: 'admin', password: 'admin-secret' };
export const sandboxDatabase = 'app';

export interface SandboxTopology {
  listen: string;
  admin: string;
  backend: { user: string; password: string; database: string };
  poolSize: number;
  primary: string;
  replicas: string[];
  /** Names the kind of backend in the file's header comment. */
  description: string;
  /** Plugins for the other stores the sandbox started. */
  plugins?: Record<string, unknown>;
}

export function sandboxConfig(t: SandboxTopology): ConfigInput {
  return {
    listen: t.listen,
    admin: t.admin,
    log: { level: 'info', format: 'pretty' },
    users: [
      { ...sandboxUser, auth: 'scram-sha-256' },
      { ...sandboxAdmin, auth: 'scram-sha-256', admin: true },
    ],
    databases: {
      [sandboxDatabase]: {
        backend: t.backend,
        pool: { mode: 'transaction', size: t.poolSize },
        shards: [{ primary: t.primary, replicas: t.replicas }],
      },
    },
    plugins: t.plugins ?? {},
  };
}

export function sandboxConfigYaml(t: SandboxTopology): string {
  return `# Written by \`polyproxy sandbox\` for ${t.description}; removed when the sandbox stops.\n${stringify(sandboxConfig(t))}`;
}
