// The `plugins.widecolumn` config slice: where Cassandra is, which keyspace the SQL schema maps to, consistency levels.
import { z } from 'zod';
import { duration } from '../../../config/fields.js';

/** The consistency levels a statement may ask for, as CQL names them (lower-case in YAML). */
export const consistencyNames = [
  'any',
  'one',
  'two',
  'three',
  'quorum',
  'all',
  'local_quorum',
  'each_quorum',
  'local_one',
] as const;

export type ConsistencyName = (typeof consistencyNames)[number];

const lowerName = z
  .string()
  .min(1)
  .transform((name) => name.toLowerCase());

export const widecolumnConfigSchema = z
  .object({
    /** host or host:port of one or more nodes; the driver discovers the rest of the cluster. */
    contact_points: z.array(z.string().min(1)).min(1),
    /** The driver sends requests only to nodes of this data center. */
    local_datacenter: z.string().min(1),
    keyspace: z.string().min(1),
    /** The SQL schema whose tables are the keyspace's tables; compared lower-case. */
    schema: lowerName.prefault('wide'),
    user: z.string().optional(),
    password: z.string().optional(),
    read_consistency: z.enum(consistencyNames).prefault('local_one'),
    write_consistency: z.enum(consistencyNames).prefault('local_quorum'),
    /** Tables whose reads may filter on any column (CQL ALLOW FILTERING: the node scans and discards rows). */
    allow_filtering: z.array(lowerName).prefault([]),
    /** Kept short so that with Cassandra down its statements fail fast instead of holding the client. */
    /** Rows per page the driver fetches; a result is read page by page with the driver's paging state. */
    page_size: z.number().int().positive().max(100_000).prefault(5000),
    connect_timeout: duration('2s'),
    request_timeout: duration('12s'),
    /** How long table definitions read from system_schema are reused (a failed statement rereads them). */
    schema_ttl: duration('30s'),
  })
  .strict();

export type WidecolumnConfig = z.output<typeof widecolumnConfigSchema>;
