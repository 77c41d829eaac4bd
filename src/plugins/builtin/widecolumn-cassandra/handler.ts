// Answers statements on the claimed schema: plans them as CQL, runs them through the driver, describes and explains them.
import cassandra from 'cassandra-driver';
import {
  PluginError,
  type CounterLike,
  type Description,
  type HistogramLike,
  type PluginMetrics,
  type Row,
  type Statement,
  type StatementHandler,
  type StatementResult,
} from '../../api.js';
import { statementRelation } from '../../sql-ast.js';
import type { Catalog, Table } from './catalog.js';
import type { ConsistencyName } from './config.js';
import { oids } from './cql-types.js';
import { writeOptions } from './directive.js';
import { pluginError, toPluginError, unsupported } from './errors.js';
import type { CqlStatement, OutputColumn, Plan } from './plans.js';
import { planSelect } from './select-plan.js';
import { bodyOf, Values, type Node } from './sql-ast.js';
import { planDelete, planInsert, planUpdate } from './write-plan.js';

/** Runs CQL: the plugin's driver client, or a test's. */
export interface CqlRunner {
  /** Every row of every page, each as its selectors' values in order. */
  rows(statement: CqlStatement, consistency: ConsistencyName): Promise<unknown[][]>;
  /** One page of a read, from the paging state the previous page ended with (none: the first page). */
  page(statement: CqlStatement, consistency: ConsistencyName, pageState?: string): Promise<CqlPage>;
  /** Several writes as one logged batch. */
  batch(statements: readonly CqlStatement[], consistency: ConsistencyName): Promise<void>;
}

export interface CqlPage {
  readonly rows: unknown[][];
  /** The driver's paging state of the next page; absent after the last one. */
  readonly pageState?: string;
}

export interface Consistencies {
  readonly read: ConsistencyName;
  readonly write: ConsistencyName;
}

interface Target {
  readonly kind: 'SelectStmt' | 'InsertStmt' | 'UpdateStmt' | 'DeleteStmt';
  readonly body: Node;
  readonly table: string;
  /** How SQL may qualify a column: the table's name, schema.name, or its alias. */
  readonly tableNames: string[];
  readonly sqlName: string;
  /** The statement kind as the metrics label it: select, insert, update or delete. */
  readonly metricKind: string;
}

interface Described {
  readonly table: Table;
  readonly paramTypes: readonly number[];
  readonly description: Description;
}

export class WidecolumnHandler implements StatementHandler {
  private readonly statements: CounterLike | undefined;
  private readonly seconds: HistogramLike | undefined;
  private readonly pages: CounterLike | undefined;
  /** Per statement (its AST object, the same for every run of a prepared statement): the table it names. */
  private readonly targets = new WeakMap<object, Target>();
  /** Describe's answer per statement (node-postgres describes each portal it runs), while its table is unchanged. */
  private readonly described = new WeakMap<object, Described>();

  constructor(
    private readonly runner: CqlRunner,
    private readonly catalog: Catalog,
    private readonly schema: string,
    private readonly consistency: Consistencies,
    metrics?: PluginMetrics,
  ) {
    this.statements = metrics?.counter(
      'statements_total',
      'Statements on Cassandra tables by kind and outcome',
      ['kind', 'outcome'],
    );
    this.seconds = metrics?.histogram('statement_seconds', 'Time to run a statement on Cassandra', ['kind']);
    this.pages = metrics?.counter(
      'pages_total',
      'Pages of rows read from Cassandra (fetched as clients want them)',
    );
  }

  private target(stmt: Statement): Target {
    let target = this.targets.get(stmt.ast);
    if (!target) {
      target = this.findTarget(stmt);
      this.targets.set(stmt.ast, target);
    }
    return target;
  }

  private findTarget(stmt: Statement): Target {
    const { kind, body, relation } = statementRelation(stmt.ast, this.schema, unsupported, {
      things: 'Cassandra tables',
      thing: 'table',
      oneFrom: 'read one table per statement and combine rows in the application',
      otherStatements: 'use SELECT, INSERT, UPDATE or DELETE (create tables with CQL)',
    });
    if (kind === 'SelectStmt' && body.op && body.op !== 'SETOP_NONE')
      throw unsupported('UNION/INTERSECT/EXCEPT', 'run each SELECT on its own');
    const table = String(relation.relname);
    const alias =
      bodyOf(relation.alias, 'Alias')?.aliasname ?? (relation.alias as Node | undefined)?.aliasname;
    const tableNames = alias ? [String(alias)] : [table, `${this.schema}.${table}`];
    const metricKind = kind.replace('Stmt', '').toLowerCase();
    return { kind, body, table, tableNames, sqlName: `${this.schema}.${table}`, metricKind };
  }

  private plan(stmt: Statement, target: Target, table: Table, values: Values): Plan {
    const write = target.kind !== 'SelectStmt';
    if (write && !values.describing) {
      if (stmt.session.readOnly)
        throw pluginError(
          'readOnlyTransaction',
          `cannot execute ${target.kind.replace('Stmt', '').toUpperCase()} in a read-only transaction`,
        );
      // Refused when it would run, as PostgreSQL refuses what it cannot execute: Describe still answers.
      if (stmt.session.inTransaction)
        throw unsupported(
          'writing Cassandra tables inside a transaction block',
          'run the INSERT/UPDATE/DELETE outside BEGIN ... COMMIT (each commits on its own)',
        );
    }
    switch (target.kind) {
      case 'SelectStmt':
        return planSelect(target.body, table, target.sqlName, target.tableNames, values);
      case 'InsertStmt':
        return planInsert(target.body, table, target.sqlName, values, writeOptions(stmt.hint));
      case 'UpdateStmt':
        return planUpdate(
          target.body,
          table,
          target.sqlName,
          target.tableNames,
          values,
          writeOptions(stmt.hint),
        );
      case 'DeleteStmt':
        return planDelete(target.body, table, target.sqlName, target.tableNames, values);
    }
  }

  async describe(stmt: Statement): Promise<Description> {
    try {
      const target = this.target(stmt);
      const table = this.catalog.known(target.table) ?? (await this.catalog.table(target.table));
      const cached = this.described.get(stmt.ast);
      if (cached && cached.table === table && cached.paramTypes === stmt.paramTypes)
        return cached.description;
      const values = new Values(null);
      const plan = this.plan(stmt, target, table, values);
      const count = Math.max(values.highestParam, stmt.paramTypes.length);
      const params = Array.from(
        { length: count },
        (_, i) => stmt.paramTypes[i] || values.paramOids[i] || oids.text,
      );
      const description = { params, columns: plan.kind === 'select' ? plan.resultColumns : null };
      this.described.set(stmt.ast, { table, paramTypes: stmt.paramTypes, description });
      return description;
    } catch (err) {
      throw toPluginError(err);
    }
  }

  async execute(stmt: Statement): Promise<StatementResult> {
    let target: Target | undefined;
    let kind = 'other';
    let plan: Plan | undefined;
    try {
      target = this.target(stmt);
      kind = target.metricKind;
      const table = this.catalog.known(target.table) ?? (await this.catalog.table(target.table));
      plan = this.plan(stmt, target, table, new Values(stmt.params));
      const started = process.hrtime.bigint();
      const result = await this.run(plan);
      this.seconds?.observe({ kind }, Number(process.hrtime.bigint() - started) / 1e9);
      this.statements?.inc({ kind, outcome: 'ok' });
      return result;
    } catch (err) {
      // A table changed under the cached definition shows as Cassandra refusing the CQL: reread it next time.
      if (target && err instanceof cassandra.errors.ResponseError) this.catalog.forget(target.table);
      const refused = plan === undefined && err instanceof PluginError;
      this.statements?.inc({ kind, outcome: refused ? 'refused' : 'error' });
      throw toPluginError(err);
    }
  }

  private async run(plan: Plan): Promise<StatementResult> {
    const { read, write } = this.consistency;
    switch (plan.kind) {
      case 'select': {
        const columns = plan.resultColumns;
        const texts = (raw: readonly (readonly unknown[])[]) => rowTexts(plan.columns, raw);
        if (plan.empty) {
          const rows = texts(plan.aggregate ? [plan.emptyRow] : []);
          return { columns, rows, command: `SELECT ${rows.length}` };
        }
        const first = await this.runner.page(plan.statement, read);
        this.pages?.inc();
        const rows = texts(first.rows);
        if (first.pageState === undefined) return { columns, rows, command: `SELECT ${rows.length}` };
        // Later pages are read when the client asks for more rows, each from the paging state of the one before.
        let pageState: string | undefined = first.pageState;
        const next = async () => {
          while (pageState !== undefined) {
            const page: CqlPage = await this.runner
              .page(plan.statement, read, pageState)
              .catch((err: unknown) => {
                throw toPluginError(err);
              });
            this.pages?.inc();
            pageState = page.pageState;
            if (page.rows.length) return texts(page.rows);
          }
          return null;
        };
        return { columns, rows, command: 'SELECT', more: { next } };
      }
      case 'insert': {
        if (!plan.conditional) {
          if (plan.statements.length === 1) await this.runner.rows(plan.statements[0], write);
          else await this.runner.batch(plan.statements, write);
          return { columns: null, rows: [], command: `INSERT 0 ${plan.statements.length}` };
        }
        // Each row its own lightweight transaction: a batch of them must stay in one partition.
        let inserted = 0;
        for (const statement of plan.statements)
          if ((await this.runner.rows(statement, write))[0]?.[0] === true) inserted++;
        return { columns: null, rows: [], command: `INSERT 0 ${inserted}` };
      }
      case 'update':
      case 'delete': {
        const tag = plan.kind.toUpperCase();
        if (plan.empty) return { columns: null, rows: [], command: `${tag} 0` };
        let count = plan.count || plan.conditional ? 0 : 1;
        if (plan.count) count = Number(String((await this.runner.rows(plan.count, write))[0]?.[0] ?? 0));
        const result = await this.runner.rows(plan.statement, write);
        if (plan.conditional) count = result[0]?.[0] === true ? 1 : 0;
        return { columns: null, rows: [], command: `${tag} ${count}` };
      }
    }
  }

  /** The CQL that would run, one statement per line, with its consistency level. */
  async explain(stmt: Statement): Promise<string> {
    try {
      const target = this.target(stmt);
      const values = new Values(stmt.params.length ? stmt.params : null);
      const plan = this.plan(
        { ...stmt, session: { ...stmt.session, inTransaction: false, readOnly: false } },
        target,
        await this.catalog.table(target.table),
        values,
      );
      const line = (s: CqlStatement, consistency: ConsistencyName) =>
        `${s.cql}  -- consistency ${consistency}`;
      switch (plan.kind) {
        case 'select':
          return line(plan.statement, this.consistency.read);
        case 'insert':
          return [
            ...(plan.statements.length > 1 && !plan.conditional ? ['BEGIN BATCH'] : []),
            ...plan.statements.map((s) => line(s, this.consistency.write)),
            ...(plan.statements.length > 1 && !plan.conditional ? ['APPLY BATCH'] : []),
          ].join('\n');
        case 'update':
        case 'delete':
          return [plan.count, plan.statement]
            .filter((s): s is CqlStatement => s !== null)
            .map((s) => line(s, this.consistency.write))
            .join('\n');
      }
    } catch (err) {
      // A statement the plugin would refuse is explained by the error it would get, rather than failing EXPLAIN.
      if (!(err instanceof PluginError)) throw toPluginError(err);
      return `refused with ${err.sqlstate}: ${err.message}`;
    }
  }
}

/** Result rows in PostgreSQL text form: each output column read from the CQL row's selectors. */
function rowTexts(columns: readonly OutputColumn[], raw: readonly (readonly unknown[])[]): Row[] {
  const rows: Row[] = new Array<Row>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const row = raw[i];
    const texts: (string | null)[] = new Array<string | null>(columns.length);
    for (let c = 0; c < columns.length; c++) texts[c] = columns[c].read(row);
    rows[i] = texts;
  }
  return rows;
}
