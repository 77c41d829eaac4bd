// Answers statements on the claimed schema: translates them for MySQL, runs them (in the block's transaction), describes and explains them.
import type { FieldPacket, PoolConnection, ResultSetHeader } from 'mysql2/promise';
import type { Description, PluginMetrics, Statement, StatementHandler, StatementResult } from '../../api.js';
import { errorCodes } from '../../../errors.js';
import { highestParam, rangeVars, type Node } from './ast.js';
import type { BoundedPool, Reader } from './bounded-pool.js';
import type { Catalog, TableInfo } from './catalog.js';
import { pgAverage } from './average.js';
import { divisionByZero, pluginError, toPluginError } from './errors.js';
import type { Dialect } from './scope.js';
import { quoteName, render, type Frag, type Slot } from './fragments.js';
import { typeOids } from './pg-types.js';
import type { Keyed } from './plan.js';
import { Translator, type OutputColumn, type Plan, type ReadBack } from './statements.js';
import { mysqlValue, type MysqlValue } from './text-in.js';
import { pgText } from './text-out.js';
import { textProtocol } from './plain-query.js';
import type { BlockTransactions } from './transactions.js';

/** MariaDB has code-point collations without padding for every character set; MySQL 8 has one for utf8mb4. */
export function dialectFor(version: string): Dialect {
  const mariadb = /mariadb/i.test(version);
  const [major, minor, patch] = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  const at = (m: number, n: number, p: number) =>
    major > m || (major === m && (minor > n || (minor === n && patch >= p)));
  return {
    // INTERSECT and EXCEPT (with ALL): MariaDB 10.5, MySQL 8.0.31.
    intersectExcept: mariadb ? at(10, 5, 0) : at(8, 0, 31),
    binaryCollation: (charset) =>
      mariadb ? `${charset}_nopad_bin` : charset === 'utf8mb4' ? 'utf8mb4_0900_bin' : `${charset}_bin`,
  };
}

type Counter = ReturnType<PluginMetrics['counter']>;

const planCacheSize = 256;

/** A statement's translation, rendered once: every run of the same text over the same tables reuses it. */
interface Translated {
  readonly plan: Plan;
  readonly tables: Map<string, TableInfo>;
  readonly dialect: Dialect;
  readonly sql: string;
  readonly slots: readonly Slot[];
  readonly columns: ReturnType<typeof columnsOf>;
  /** Whether the translation divides (DIV, MOD, / on floats): MySQL's SELECT answers NULL for a zero divisor. */
  readonly divides: boolean;
  /** A read without placeholders whose columns MySQL's text protocol gives as its binary one does (see textProtocol). */
  readonly plainQuery: boolean;
}

export class MysqlHandler implements StatementHandler {
  private dialect: Promise<Dialect> | null = null;
  private detected: Dialect = dialectFor('MariaDB');
  /** Once the server's version is known, statements take the dialect without waiting. */
  private versionRead = false;
  /** Translations by statement text, oldest first: Describe and Execute of one query, and repeated queries, translate once. */
  private readonly plans = new Map<string, Translated>();
  /** The claimed tables a statement names, per parse tree (the parser's cache hands out the same tree for the same text). */
  private readonly tableNames = new WeakMap<object, string[]>();

  constructor(
    private readonly pool: BoundedPool,
    private readonly catalog: Catalog,
    private readonly blocks: BlockTransactions,
    private readonly schema: string,
    private readonly database: string,
    private readonly statements: Counter,
  ) {}

  /** `via`: the connection a transaction block holds, so that it never waits for a second one (see Catalog.table). */
  private serverDialect(via: Reader): Promise<Dialect> | Dialect {
    if (this.versionRead) return this.detected;
    this.dialect ??= via.query('SELECT VERSION() AS v').then(
      ([rows]) => {
        this.detected = dialectFor(String((rows as { v: string }[])[0].v));
        this.versionRead = true;
        return this.detected;
      },
      (err: unknown) => {
        this.dialect = null;
        throw err;
      },
    );
    return this.dialect;
  }

  private claimedTables(ast: object): string[] {
    let names = this.tableNames.get(ast);
    if (!names) {
      const claimed = rangeVars(ast).filter(
        (relation) => String(relation.schemaname ?? '').toLowerCase() === this.schema,
      );
      names = [...new Set(claimed.map((relation) => String(relation.relname)))];
      this.tableNames.set(ast, names);
    }
    return names;
  }

  /**
   * The statement's translation when the server's version, the definitions of every table it names and the
   * translation itself are at hand: a repeated statement is planned without an await.
   */
  private cachedPlan(stmt: Statement): Translated | undefined {
    const cached = this.versionRead ? this.plans.get(stmt.sql) : undefined;
    if (cached?.dialect !== this.detected) return undefined;
    const names = this.claimedTables(stmt.ast);
    if (names.length !== cached.tables.size) return undefined;
    for (const name of names) if (this.catalog.fresh(name) !== cached.tables.get(name)) return undefined;
    // Least recently used first: a statement in use stays while one-off texts (literal keys) come and go.
    this.plans.delete(stmt.sql);
    this.plans.set(stmt.sql, cached);
    return cached;
  }

  /** Plans through the connection the client's block holds, if any. */
  private async planFor(stmt: Statement): Promise<Translated> {
    const via = await this.reader(stmt);
    return this.plan(stmt, await this.serverDialect(via), via);
  }

  private async plan(stmt: Statement, dialect: Dialect, via: Reader = this.pool): Promise<Translated> {
    const tables = new Map<string, TableInfo>();
    for (const name of this.claimedTables(stmt.ast)) {
      const info = await this.catalog.table(name, via);
      if (info) tables.set(name, info);
    }
    // The same text over the same table definitions (the catalog's cached objects) translates the same way.
    const cached = this.plans.get(stmt.sql);
    if (
      cached?.dialect === dialect &&
      cached.tables.size === tables.size &&
      [...tables].every(([name, info]) => cached.tables.get(name) === info)
    )
      return cached;
    const plan = new Translator(this.schema, this.database, tables, dialect).plan(stmt.ast as Node);
    const { sql, slots } = render(plan.statement);
    const translated = {
      plan,
      tables,
      dialect,
      sql,
      slots,
      columns: columnsOf(plan),
      divides: divides(sql),
      plainQuery: textProtocol(plan, slots),
    };
    this.plans.delete(stmt.sql);
    this.plans.set(stmt.sql, translated);
    if (this.plans.size > planCacheSize) this.plans.delete(this.plans.keys().next().value!);
    return translated;
  }

  /** The connection the client's block holds (none outside a block: no wait for it). */
  private async reader(stmt: Statement): Promise<Reader> {
    return (stmt.session.inTransaction && (await this.blocks.held(stmt.session))) || this.pool;
  }

  async describe(stmt: Statement): Promise<Description> {
    try {
      const { slots, columns } = this.cachedPlan(stmt) ?? (await this.planFor(stmt));
      const params = Array.from(
        { length: Math.max(highestParam(stmt.ast), stmt.paramTypes.length) },
        (_, i) => {
          const given = stmt.paramTypes[i] ?? 0;
          const typed = slots.find((slot) => slot.param === i + 1 && slot.type !== null);
          return given !== 0 ? given : typed ? typeOids[typed.type!] : typeOids.text;
        },
      );
      return { params, columns };
    } catch (err) {
      throw toPluginError(err);
    }
  }

  async execute(stmt: Statement): Promise<StatementResult> {
    let kind = 'unknown';
    try {
      const translated = this.cachedPlan(stmt) ?? (await this.planFor(stmt));
      kind = translated.plan.kind;
      const result = stmt.session.inTransaction
        ? await this.run(await this.blocks.connectionFor(stmt.session), translated, stmt)
        : await this.autocommit(translated, stmt);
      this.statements.inc({ kind, result: 'ok' });
      return result;
    } catch (err) {
      const error = toPluginError(err);
      this.statements.inc({
        kind,
        result: error.sqlstate === errorCodes.featureNotSupported.sqlstate ? 'refused' : 'error',
      });
      throw error;
    }
  }

  /** The MySQL statement with its placeholders, and what each is bound to. */
  async explain(stmt: Statement): Promise<string> {
    const { plan, sql, slots } = await this.plan(stmt, this.detected, await this.reader(stmt));
    const bound = slots.map(
      (slot, i) =>
        `?${i + 1} = ${slot.param !== undefined ? `$${slot.param}` : JSON.stringify(slot.literal)}${slot.type ? `::${slot.type}` : ''}`,
    );
    const lines = [`MySQL: ${sql}`];
    if (bound.length) lines.push(`  bound: ${bound.join(', ')}`);
    if (plan.readBack)
      lines.push(
        `  then: ${render(plan.readBack.select).sql} WHERE ${quoteName(plan.readBack.alias)}.${quoteName(plan.readBack.key)} IN (…)`,
      );
    if (plan.keyed)
      lines.push(
        `  first: ${render(plan.keyed.find).sql}`,
        `  rows: ${render(plan.keyed.select).sql} WHERE ${quoteName(plan.keyed.alias)}.${quoteName(plan.keyed.key)} IN (…), ${plan.keyed.readFirst ? 'before' : 'after'} the statement on those keys`,
      );
    return lines.join('\n');
  }

  /** Outside a block: one pooled connection; a statement that needs two queries runs them in one transaction. */
  private async autocommit(translated: Translated, stmt: Statement): Promise<StatementResult> {
    const { plan } = translated;
    let connection: PoolConnection;
    try {
      connection = await this.pool.getConnection();
    } catch (err) {
      throw toPluginError(err);
    }
    let healthy = true;
    try {
      if (!plan.readBack && !plan.keyed) return await this.run(connection, translated, stmt);
      await connection.query('START TRANSACTION');
      try {
        const result = await this.run(connection, translated, stmt);
        await connection.query('COMMIT');
        return result;
      } catch (err) {
        await connection.query('ROLLBACK').catch(() => (healthy = false));
        throw err;
      }
    } catch (err) {
      const error = toPluginError(err);
      if (error.sqlstate === errorCodes.connectionFailure.sqlstate) healthy = false;
      throw error;
    } finally {
      if (healthy) connection.release();
      else connection.destroy();
    }
  }

  private async run(
    connection: PoolConnection,
    translated: Translated,
    stmt: Statement,
  ): Promise<StatementResult> {
    const { plan, sql, slots, columns } = translated;
    const values = bind(slots, stmt);
    if (plan.kind === 'select') {
      const [rows] = (await (translated.plainQuery
        ? connection.query({ sql, rowsAsArray: true })
        : connection.execute({ sql, rowsAsArray: true }, values))) as unknown as [unknown[][], FieldPacket[]];
      if (translated.divides) await refuseDivisionByZero(connection);
      const out = rows.map((row) => outputRow(row, plan.columns!));
      return { columns, rows: out, command: `SELECT ${out.length}` };
    }
    if (plan.keyed) return this.runKeyed(connection, plan, plan.keyed, stmt);
    if (plan.countsSkipped) await connection.query('SET @polyproxy_skipped = 0');
    const [header] = (await connection.execute(sql, values)) as unknown as [ResultSetHeader];
    switch (plan.kind) {
      case 'insert': {
        const count =
          plan.rowsProposed ?? header.affectedRows - (plan.countsSkipped ? await skipped(connection) : 0);
        const rows = plan.readBack ? await this.readBack(connection, plan, plan.readBack, header, stmt) : [];
        return { columns, rows, command: `INSERT 0 ${count}` };
      }
      case 'update':
        return { columns: null, rows: [], command: `UPDATE ${header.affectedRows}` };
      case 'delete':
        return { columns: null, rows: [], command: `DELETE ${header.affectedRows}` };
    }
  }

  /** UPDATE/DELETE ... RETURNING: find and lock the rows' keys, run the statement on them, read them by key. */
  private async runKeyed(
    connection: PoolConnection,
    plan: Plan,
    keyed: Keyed,
    stmt: Statement,
  ): Promise<StatementResult> {
    const found = render(keyed.find);
    const [keyRows] = (await connection.execute(
      { sql: found.sql, rowsAsArray: true },
      bind(found.slots, stmt),
    )) as unknown as [MysqlValue[][]];
    const keys = keyRows.map((row) => row[0]);
    const read = () => this.rowsByKey(connection, plan, keyed, keys, stmt);
    const before = keyed.readFirst ? await read() : [];
    if (keys.length) {
      const { sql, slots } = render(plan.statement);
      const where = ` WHERE ${quoteName(keyed.alias)}.${quoteName(keyed.key)} IN (${keys.map(() => '?').join(', ')})`;
      await connection.execute(sql + where, [...bind(slots, stmt), ...keys]);
    }
    const rows = keyed.readFirst ? before : await read();
    return { columns: columnsOf(plan), rows, command: `${plan.kind.toUpperCase()} ${keys.length}` };
  }

  /** Rows of `select` (its last column the key) in the order of `keys`. */
  private async rowsByKey(
    connection: PoolConnection,
    plan: Plan,
    by: { select: Frag; alias: string; key: string },
    keys: MysqlValue[],
    stmt: Statement,
  ): Promise<(string | null)[][]> {
    if (!keys.length) return [];
    const { sql, slots } = render(by.select);
    const where = ` WHERE ${quoteName(by.alias)}.${quoteName(by.key)} IN (${keys.map(() => '?').join(', ')})`;
    const [rows] = (await connection.execute({ sql: sql + where, rowsAsArray: true }, [
      ...bind(slots, stmt),
      ...keys,
    ])) as unknown as [unknown[][]];
    const byKey = new Map(rows.map((row) => [String(row[row.length - 1]), row]));
    const types = plan.columns!;
    return keys.flatMap((key) => {
      const row = byKey.get(String(key));
      return row ? [types.map((column, i) => pgText(row[i], column.type))] : [];
    });
  }

  /** RETURNING: the inserted rows read back by key, in the order they were inserted. */
  private async readBack(
    connection: PoolConnection,
    plan: Plan,
    readBack: ReadBack,
    header: ResultSetHeader,
    stmt: Statement,
  ): Promise<(string | null)[][]> {
    let keys: MysqlValue[];
    if (readBack.keys === 'generated') {
      const [[step]] = (await connection.query({
        sql: 'SELECT @@auto_increment_increment',
        rowsAsArray: true,
      })) as unknown as [[[number]]];
      keys = Array.from({ length: header.affectedRows }, (_, i) => header.insertId + i * Number(step));
    } else keys = readBack.keys.map((key) => (typeof key === 'string' ? key : bind([key], stmt)[0]));
    return this.rowsByKey(connection, plan, readBack, keys, stmt);
  }
}

/** A MySQL row in PostgreSQL text; an avg() column takes two MySQL values, its sum and count. */
function outputRow(row: unknown[], columns: readonly OutputColumn[]): (string | null)[] {
  let at = 0;
  return columns.map((column) => {
    if (!column.average) return pgText(row[at++], column.type);
    at += 2;
    return pgAverage(row[at - 2], row[at - 1]);
  });
}

/** Rows an ON CONFLICT DO NOTHING skipped (each also counted as affected, the pool's connections using FOUND_ROWS). */
async function skipped(connection: PoolConnection): Promise<number> {
  const [[row]] = (await connection.query({
    sql: 'SELECT @polyproxy_skipped',
    rowsAsArray: true,
  })) as unknown as [[[unknown]]];
  return Number(row[0]);
}

/** Whether the translation divides (DIV, MOD, / on floats): MySQL's SELECT answers NULL for a zero divisor. */
const divides = (sql: string) => / DIV |MOD\(| \/ /.test(sql);

/** PostgreSQL fails the statement where MySQL divided by zero and only warned (1365). */
async function refuseDivisionByZero(connection: PoolConnection): Promise<void> {
  const [warnings] = (await connection.query('SHOW WARNINGS')) as unknown as [{ Code: number }[]];
  if (warnings.some((w) => Number(w.Code) === 1365)) throw divisionByZero();
}

function columnsOf(plan: Plan) {
  return plan.columns
    ? plan.columns.map((c) => ({ name: c.name, typeOid: typeOids[c.type], typeModifier: c.typeModifier }))
    : null;
}

/** Placeholder values: the client's parameters and the statement's quoted literals, typed by their context. */
function bind(slots: readonly Slot[], stmt: Statement): MysqlValue[] {
  return slots.map((slot) => {
    if (slot.param !== undefined) {
      if (slot.param > stmt.params.length)
        throw pluginError('protocolViolation', `there is no parameter $${slot.param}`);
      return mysqlValue(stmt.params[slot.param - 1], slot.type);
    }
    return mysqlValue(slot.literal ?? null, slot.type);
  });
}
