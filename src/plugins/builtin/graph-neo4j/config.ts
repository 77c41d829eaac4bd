// The `plugins.graph` config slice: where Neo4j is, how to log in, and which Neo4j database each graph name means.
import { z } from 'zod';
import { duration } from '../../../config/fields.js';

/** Bolt for one server, neo4j:// for a cluster (routing); `+s` and `+ssc` variants add TLS. */
const neo4jUrl = /^(bolt|neo4j)(\+s|\+ssc)?:\/\/[^\s/]+\/?$/;

export const defaultDatabase = 'neo4j';

export const graphConfigSchema = z
  .object({
    url: z
      .string()
      .regex(neo4jUrl, { error: 'expected bolt://host:port or neo4j://host:port (optionally +s or +ssc)' }),
    user: z.string().optional(),
    password: z.string().optional(),
    /**
     * Graph name as cypher() names it -> Neo4j database. A graph listed without a database (`social: ~`)
     * uses `neo4j`, the database every Neo4j server has; graphs not listed are unknown (3F000). Names are
     * compared as written, as Apache AGE does.
     */
    graphs: z
      .record(z.string().min(1), z.string().min(1).nullable())
      .prefault({})
      .transform((graphs) =>
        Object.fromEntries(
          Object.entries(graphs).map(([name, database]) => [name, database ?? defaultDatabase]),
        ),
      ),
    /** Kept short so that with Neo4j down graph statements fail fast instead of holding the client. */
    connect_timeout: duration('2s'),
    /** How long the driver retries a read or write that failed transiently (deadlock, leader switch). */
    max_retry_time: duration('1s'),
    /** Most Bolt connections open at once. */
    pool_size: z.number().int().positive().prefault(50),
  })
  .strict();

export type GraphConfig = z.output<typeof graphConfigSchema>;
