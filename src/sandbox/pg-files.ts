// The configuration files of a sandbox PostgreSQL server: who may connect, and settings for speed and replication.
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type AuthMethod = 'scram-sha-256' | 'md5' | 'password' | 'trust';

/** Quotes a postgresql.conf value; every value may be quoted, so strings and numbers are treated alike. */
const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

export async function writeHba(dataDir: string, method: AuthMethod): Promise<void> {
  // The Unix socket lives in our private temp dir, so trusting it is safe and lets the sandbox administer the server.
  const lines = [
    'local all all trust',
    'local replication all trust',
    `host all all 127.0.0.1/32 ${method}`,
    `host replication all 127.0.0.1/32 ${method}`,
  ];
  await writeFile(join(dataDir, 'pg_hba.conf'), lines.join('\n') + '\n');
}

/** Appends settings; postgresql.conf keeps the last value of a repeated name, so later calls override earlier ones. */
export async function appendSettings(dataDir: string, settings: Record<string, string>): Promise<void> {
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${quote(value)}`);
  await appendFile(join(dataDir, 'postgresql.conf'), `\n# polyproxy sandbox\n${lines.join('\n')}\n`);
}

/** Settings shared by primaries and, through pg_basebackup, their replicas. */
export function baseSettings(port: number, socketDir: string, method: AuthMethod): Record<string, string> {
  return {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: socketDir,
    // Test data is disposable: skipping fsync makes every commit much faster.
    fsync: 'off',
    max_connections: '300',
    max_prepared_transactions: '100',
    // logical: change streams (cache invalidation) read each primary through a replication slot.
    wal_level: 'logical',
    max_wal_senders: '20',
    // Keeps enough WAL for a replica that starts a little after its base backup.
    wal_keep_size: '256MB',
    hot_standby: 'on',
    // md5 authentication needs md5-hashed passwords; with SCRAM-hashed ones PostgreSQL silently uses SCRAM.
    password_encryption: method === 'md5' ? 'md5' : 'scram-sha-256',
  };
}
