// Answers claimed cypher() statements: runs the Cypher on the graph's Neo4j database and shapes rows as the SQL asked.
import neo4j, { type Driver, type ManagedTransaction, type Transaction } from 'neo4j-driver';
import {
  PluginError,
  type Description,
  type PluginMetrics,
  type ResultColumn,
  type Row,
  type Statement,
  type StatementHandler,
  type StatementResult,
} from '../../api.js';
import { readOnlyRefusal } from '../../read-only.js';
import { accessMode, updatingClause, type AccessMode } from './access-mode.js';
import type { GraphConfig } from './config.js';
import { extractCypherCall, type CypherCall, type OutputColumn } from './cypher-call.js';
import { pluginError, toPluginError } from './errors.js';
import { cypherParams } from './params.js';
import { BlockTransactions } from './transactions.js';
import { typedText } from './typed-value.js';

interface Plan {
  readonly call: CypherCall;
  readonly database: string;
  readonly mode: AccessMode;
}

interface CypherRows {
  readonly keys: readonly string[];
  readonly records: readonly { get(index: number): unknown }[];
}

function resultColumns(output: readonly OutputColumn[]): ResultColumn[] {
  return output.map((column) => ({ name: column.name, typeOid: column.type.oid, typeModifier: -1 }));
}

async function runIn(tx: ManagedTransaction | Transaction, query: string, params: Record<string, unknown>) {
  const result = tx.run(query, params);
  const keys = await result.keys();
  const { records } = await result;
  return { keys, records };
}

export class GraphHandler implements StatementHandler {
  private readonly blocks: BlockTransactions;
  private readonly statements;
  private readonly seconds;

  constructor(
    private readonly driver: Driver,
    private readonly config: GraphConfig,
    metrics: PluginMetrics,
  ) {
    this.blocks = new BlockTransactions(driver);
    this.statements = metrics.counter('statements_total', 'cypher() statements run', [
      'graph',
      'mode',
      'outcome',
    ]);
    this.seconds = metrics.histogram('statement_seconds', 'Time to run a cypher() statement on Neo4j', [
      'graph',
      'mode',
    ]);
  }

  private plan(stmt: Statement): Plan {
    const call = extractCypherCall(stmt.ast);
    const database = this.config.graphs[call.graph];
    if (database === undefined) {
      throw pluginError(
        'invalidSchemaName',
        `graph "${call.graph}" does not exist`,
        'Add it to plugins.graph.graphs, mapped to a Neo4j database.',
      );
    }
    return { call, database, mode: accessMode(call.query) };
  }

  describe(stmt: Statement): Promise<Description> {
    try {
      return Promise.resolve({ columns: resultColumns(this.plan(stmt).call.output) });
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** A statement the plugin would refuse is explained by the error it would get, rather than failing EXPLAIN. */
  explain(stmt: Statement): string {
    let plan: Plan;
    try {
      plan = this.plan(stmt);
    } catch (err) {
      const refusal = toPluginError(err, '');
      return `refused with ${refusal.sqlstate}: ${refusal.message}`;
    }
    const { call, database, mode } = plan;
    const refusal = readOnlyRefusalFor(plan, stmt);
    if (refusal) return `refused with ${refusal.sqlstate}: ${refusal.message}`;
    const params = call.params.kind === 'bound' ? ` with parameters from $${call.params.number}` : '';
    const run = stmt.session.readOnly ? 'read' : mode;
    const where = stmt.session.inTransaction
      ? `the SQL block's ${stmt.session.readOnly ? 'read' : 'write'} transaction`
      : `a ${run} transaction`;
    return `Cypher on Neo4j database "${database}" (graph "${call.graph}") in ${where}${params}: ${call.query.trim()}`;
  }

  async execute(stmt: Statement): Promise<StatementResult> {
    const plan = this.plan(stmt);
    const refusal = readOnlyRefusalFor(plan, stmt);
    if (refusal) throw refusal;
    const params = cypherParams(plan.call.params, stmt.params);
    const labels = { graph: plan.call.graph, mode: plan.mode };
    const started = process.hrtime.bigint();
    try {
      const result = await this.run(plan, params, stmt);
      const rows = this.rows(plan.call, result);
      this.statements.inc({ ...labels, outcome: 'ok' });
      return { columns: resultColumns(plan.call.output), rows, command: `SELECT ${rows.length}` };
    } catch (err) {
      this.statements.inc({ ...labels, outcome: 'error' });
      throw toPluginError(err, plan.database);
    } finally {
      this.seconds.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async run(plan: Plan, params: Record<string, unknown>, stmt: Statement): Promise<CypherRows> {
    const { database, mode, call } = plan;
    if (stmt.session.inTransaction) {
      return runIn(this.blocks.transactionFor(stmt.session, database, mode), call.query, params);
    }
    // In a read-only SQL transaction Neo4j's read transaction refuses what a procedure call would write.
    const read = mode === 'read' || stmt.session.readOnly;
    const session = this.driver.session({
      database,
      defaultAccessMode: read ? neo4j.session.READ : neo4j.session.WRITE,
    });
    try {
      const work = (tx: ManagedTransaction) => runIn(tx, call.query, params);
      return read ? await session.executeRead(work) : await session.executeWrite(work);
    } finally {
      await session.close();
    }
  }

  /** Cypher's RETURN items map onto the column definition list by position, as in Apache AGE. */
  private rows(call: CypherCall, result: CypherRows): Row[] {
    if (result.keys.length > 0 && result.keys.length !== call.defined.length) {
      throw pluginError(
        'datatypeMismatch',
        `return row and column definition list do not match: Cypher returns ${result.keys.length} ` +
          `column(s), the definition list has ${call.defined.length}`,
      );
    }
    return result.records.map((record) =>
      call.output.map((column) => typedText(record.get(column.field), column.type.kind)),
    );
  }
}

/** As PostgreSQL in a read-only transaction: an updating clause is refused before Neo4j sees it. */
function readOnlyRefusalFor(plan: Plan, stmt: Statement): PluginError | undefined {
  const clause = stmt.session.readOnly && plan.mode === 'write' ? updatingClause(plan.call.query) : undefined;
  return clause ? readOnlyRefusal(clause) : undefined;
}
