// The `plugins.documents` config slice: where MongoDB is, which SQL schema maps to its collections, declared columns.
import { z } from 'zod';
import { pgTypeNames } from './pg-types.js';
import { isSystemCollection } from './system-collections.js';

const fieldPath = z
  .string()
  .regex(/^[^.$\0][^.\0]*(\.[^.$\0][^.\0]*)*$/, 'a dotted path of field names, none starting with $');

const declaredColumn = z.strictObject({
  type: z.enum(pgTypeNames),
  /** Dotted path inside the document; defaults to the column name. */
  path: fieldPath.optional(),
});

const declaredCollection = z.strictObject({
  columns: z.record(z.string().min(1), declaredColumn),
});

export const documentsConfigSchema = z.strictObject({
  /** Any URL the official driver accepts: replica sets, mongodb+srv, credentials, TLS options. */
  url: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// or mongodb+srv:// URL'),
  database: z.string().min(1),
  /** The SQL schema whose tables are the database's collections; compared lower-case. */
  schema: z
    .string()
    .min(1)
    .default('docs')
    .transform((name) => name.toLowerCase()),
  /** Collections with declared columns; the others get columns inferred from a sample of documents. */
  collections: z
    .record(z.string().min(1), declaredCollection)
    .refine((collections) => !Object.keys(collections).some(isSystemCollection), {
      message: "system.* collections are MongoDB's own and cannot be declared",
    })
    .default({}),
  /** How many documents inference reads per collection. */
  sample_size: z.number().int().positive().max(10_000).default(100),
  /** How long inferred columns are reused before sampling again (a write through the plugin resamples at once). */
  sample_ttl_seconds: z.number().int().nonnegative().default(60),
});

export type DocumentsConfig = z.infer<typeof documentsConfigSchema>;
export type DeclaredColumn = z.infer<typeof declaredColumn>;
