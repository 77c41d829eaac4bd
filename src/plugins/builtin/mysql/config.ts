// The `plugins.mysql` config slice: where MySQL is, which SQL schema maps to its database, pool and TLS settings.
import { z } from 'zod';

const duration = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d+(ms|s|m)$/, 'a duration such as 500ms, 5s or 1m')
    .transform((text) => {
      const [, amount, unit] = /^(\d+)(ms|s|m)$/.exec(text)!;
      return Number(amount) * { ms: 1, s: 1000, m: 60_000 }[unit as 'ms' | 's' | 'm'];
    }),
]);

const tls = z.strictObject({
  /** PEM file of the CA that signed the server's certificate; without it the system's CAs are used. */
  ca: z.string().min(1).optional(),
  /** false accepts any certificate (tests only). */
  verify: z.boolean().default(true),
});

export const mysqlConfigSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(3306),
  user: z.string().min(1),
  password: z.string().default(''),
  /** The MySQL database whose tables the SQL schema shows. */
  database: z.string().min(1),
  /** The SQL schema whose tables are the database's tables; compared lower-case. */
  schema: z
    .string()
    .min(1)
    .default('legacy')
    .transform((name) => name.toLowerCase()),
  /** Pooled connections to MySQL; one is held by each client transaction block that touched MySQL. */
  pool_size: z.number().int().positive().max(1000).default(10),
  connect_timeout: duration.default(5000),
  /** How long a statement waits for a pooled connection (all may be held by open blocks) before 53300. */
  acquire_timeout: duration.default(10_000),
  /** How long table definitions read from information_schema are reused (a table not found is read again at once). */
  catalog_ttl: duration.default(60_000),
  /** TLS to MySQL; absent: plain TCP. */
  tls: tls.optional(),
});

export type MysqlConfig = z.infer<typeof mysqlConfigSchema>;
