// Config file shape: the single source of truth for validation, defaults, types and the JSON Schema.
import { z } from 'zod';
import { databaseSchema } from './database-schema.js';
import { duration, hostPort } from './fields.js';
import { isMalformedScramVerifier, passwordKind } from './password.js';

/** The database name clients use to reach the admin console, so no backend database may take it. */
export const adminDatabaseName = 'polyproxy';

/** The most worker processes: a client's cancel key carries its worker in one byte. */
export const maxWorkers = 255;

export const userSchema = z
  .strictObject({
    name: z.string().min(1),
    password: z
      .string()
      .optional()
      .meta({ description: 'plain text, a SCRAM-SHA-256 verifier or an md5 hash ("md5" + 32 hex digits)' }),
    auth: z.enum(['scram-sha-256', 'md5', 'trust']).default('scram-sha-256'),
    admin: z.boolean().default(false).meta({ description: 'may use the admin console' }),
  })
  .superRefine((user, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: 'custom', path: ['password'], message });
    if (user.password === undefined) {
      if (user.auth !== 'trust')
        issue(`required with auth ${user.auth} (only auth: trust needs no password)`);
      return;
    }
    const kind = passwordKind(user.password);
    if (isMalformedScramVerifier(user.password)) {
      issue(
        'looks like a SCRAM-SHA-256 verifier but is malformed (SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>)',
      );
    } else if (user.auth === 'scram-sha-256' && kind === 'md5') {
      issue(
        'an md5 hash cannot be used with auth scram-sha-256: SCRAM needs the plain password or a SCRAM-SHA-256 verifier (set auth: md5, or give the password in another form)',
      );
    } else if (user.auth === 'md5' && kind === 'scram-sha-256') {
      issue(
        'a SCRAM-SHA-256 verifier cannot be used with auth md5: md5 needs the plain password or its md5 hash (set auth: scram-sha-256, or give the password in another form)',
      );
    }
  });

const isMapping = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

const databasesSchema = z.record(z.string(), databaseSchema).superRefine(
  (databases, ctx) => {
    const names = Object.keys(databases);
    if (names.length === 0)
      ctx.addIssue({ code: 'custom', message: 'expected at least one database, got none' });
    if (names.includes(adminDatabaseName)) {
      const message = `"${adminDatabaseName}" is reserved for the admin console; choose another database name`;
      ctx.addIssue({ code: 'custom', path: [adminDatabaseName], message });
    }
    if (names.includes('')) ctx.addIssue({ code: 'custom', message: 'a database name must not be empty' });
  },
  { when: (payload) => isMapping(payload.value) },
);

const usersSchema = z
  .array(userSchema)
  .min(1)
  .superRefine((users, ctx) => {
    const seen = new Set<string>();
    users.forEach((user, i) => {
      if (seen.has(user.name)) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `user "${user.name}" is listed twice` });
      }
      seen.add(user.name);
    });
  });

export const configSchema = z.strictObject({
  listen: hostPort.default('127.0.0.1:6432'),
  admin: hostPort
    .optional()
    .meta({ description: 'host:port of the HTTP server for /metrics, /healthz and /readyz' }),
  tls: z
    .strictObject({
      cert: z.string().min(1).meta({ description: 'certificate file (PEM)' }),
      key: z.string().min(1).meta({ description: 'private key file (PEM)' }),
    })
    .optional(),
  limits: z
    .strictObject({
      max_startup_packet_bytes: z.int().min(8).default(10_000),
      max_message_bytes: z.int().min(5).default(67_108_864),
      max_client_connections: z.int().min(1).default(1000),
      max_logins_in_progress: z.int().min(1).optional().meta({
        description:
          'connections still logging in (or being refused); more are refused with 53300 at once (default: max_client_connections)',
      }),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      format: z.enum(['json', 'pretty']).default('json'),
    })
    .prefault({}),
  shutdown_timeout: duration('30s'),
  workers: z
    .union([z.literal('auto'), z.int().min(1).max(maxWorkers)])
    .default('auto')
    .meta({
      description:
        'worker processes sharing the listen address (auto: one per core); pool sizes are totals over all workers',
    }),
  users: usersSchema,
  databases: databasesSchema.meta({ description: 'database name clients connect to -> where it lives' }),
  plugins: z.record(z.string(), z.unknown()).default({}),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type UserConfig = Config['users'][number];
export type DatabaseConfig = Config['databases'][string];
export type BackendConfig = DatabaseConfig['backend'];
export type PoolConfig = DatabaseConfig['pool'];
export type ShardConfig = DatabaseConfig['shards'][number];
export type RoutingConfig = DatabaseConfig['routing'];
export type ShardingConfig = NonNullable<DatabaseConfig['sharding']>;
