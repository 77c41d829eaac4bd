// Deletes published outbox rows by their key, on the primary the stream reads, once the brokers confirmed them.
import pg from 'pg';
import { clientConfig, type ServerLogin } from '../../../streams/stream-lock.js';
import type { Outgoing } from './message.js';

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const qualified = (table: string) => {
  const dot = table.indexOf('.');
  return `${quoteIdent(table.slice(0, dot))}.${quoteIdent(table.slice(dot + 1))}`;
};

/** Rows per DELETE: well below PostgreSQL's 65535 parameters for keys of a few columns. */
const chunk = 1000;

export class OutboxCleaner {
  private client: pg.Client | null = null;

  constructor(private readonly server: ServerLogin) {}

  /** Deletes the rows of the inserts published from tables with delete_after_publish; a row already gone is fine. */
  async delete(items: readonly Outgoing[]): Promise<void> {
    const byTable = new Map<string, Outgoing[]>();
    for (const item of items) {
      if (!item.target.delete_after_publish || item.message.op !== 'insert' || !item.message.key) continue;
      const list = byTable.get(item.message.table) ?? [];
      list.push(item);
      byTable.set(item.message.table, list);
    }
    for (const [table, rows] of byTable) {
      for (let start = 0; start < rows.length; start += chunk)
        await this.deleteRows(table, rows.slice(start, start + chunk));
    }
  }

  private async deleteRows(table: string, rows: readonly Outgoing[]): Promise<void> {
    const columns = Object.keys(rows[0]!.message.key!);
    const params: (string | null)[] = [];
    // Untyped parameters take the key columns' types, so the primary key's index serves the DELETE.
    const tuples = rows.map((row) => {
      const placeholders = columns.map((column) => {
        params.push(row.message.key![column] ?? null);
        return `$${params.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    const sql = `DELETE FROM ${qualified(table)} WHERE (${columns.map(quoteIdent).join(', ')}) IN (${tuples.join(', ')})`;
    const client = await this.connect();
    try {
      await client.query(sql, params);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({
      ...clientConfig(this.server),
      application_name: 'polyproxy publish outbox',
    });
    client.on('error', () => {
      if (this.client === client) this.client = null;
    });
    await client.connect();
    this.client = client;
    return client;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
