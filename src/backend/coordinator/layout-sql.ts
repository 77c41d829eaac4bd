// SQL spelling shared by the coordinator's modules: quoting, the proxy's own schema, server names, column lists.
import type { CatalogColumn } from './catalog.js';

/** The schema of the proxy's own objects in the coordinator (the extension, partitions): never dropped. */
export const ownSchema = 'polyproxy_coordinator';

export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;
export const qualified = (r: { schema: string; name: string }) => `${ident(r.schema)}.${ident(r.name)}`;
export const serverName = (shard: number) => `polyproxy_shard_${shard}`;

export function columnList(columns: CatalogColumn[]): string {
  const defs = columns.map(
    (c) =>
      `${ident(c.name)} ${c.type}${c.collation ? ` COLLATE ${c.collation}` : ''}${c.notNull ? ' NOT NULL' : ''}`,
  );
  return `(${defs.join(', ')})`;
}
