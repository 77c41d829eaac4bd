// Table shapes per collection: declared ones from the config, others inferred from a sample and cached for a while.
import type { Db } from 'mongodb';
import type { DocumentsConfig } from './config.js';
import { undefinedTable } from './errors.js';
import { declaredShape, inferredShape, type TableShape } from './table-shape.js';

interface Cached {
  readonly shape: TableShape;
  readonly expires: number;
}

export class Catalog {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly db: Db,
    private readonly config: DocumentsConfig,
  ) {}

  /** The shape of a collection; a collection that does not exist is an undefined table unless declared or `creating`. */
  async shape(collection: string, creating = false): Promise<TableShape> {
    const table = `${this.config.schema}.${collection}`;
    const declared = this.config.collections[collection];
    if (declared) return declaredShape(table, collection, declared.columns);
    const cached = this.cache.get(collection);
    if (cached && cached.expires > Date.now()) return cached.shape;
    const exists =
      (await this.db.listCollections({ name: collection }, { nameOnly: true }).toArray()).length > 0;
    if (!exists && !creating) throw undefinedTable(table);
    const sample = exists
      ? await this.db
          .collection(collection)
          .find({}, { limit: this.config.sample_size, promoteValues: false, promoteLongs: false })
          .toArray()
      : [];
    const shape = inferredShape(table, collection, sample);
    if (exists)
      this.cache.set(collection, { shape, expires: Date.now() + this.config.sample_ttl_seconds * 1000 });
    return shape;
  }

  /** The shape if it is declared or sampled recently, without asking the server. */
  known(collection: string): TableShape | undefined {
    const declared = this.config.collections[collection];
    if (declared) return declaredShape(`${this.config.schema}.${collection}`, collection, declared.columns);
    const cached = this.cache.get(collection);
    return cached && cached.expires > Date.now() ? cached.shape : undefined;
  }

  /** A write may add fields: the next statement samples again. */
  forget(collection: string): void {
    this.cache.delete(collection);
  }
}
