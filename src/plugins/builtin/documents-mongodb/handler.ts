// Answers statements on the claimed schema: translates them to plans, runs them on MongoDB, describes and explains them.
import { BSON, type Db } from 'mongodb';
import {
  type Description,
  type ResultColumn,
  type Statement,
  type StatementHandler,
  type StatementResult,
} from '../../api.js';
import { statementRelation } from '../../sql-ast.js';
import { Bindings } from './bindings.js';
import type { Catalog } from './catalog.js';
import { unsupported } from './errors.js';
import { resolveValue } from './expressions.js';
import { findCommands, rowFrom, runFind } from './find-run.js';
import { groupCommands, runGroup, type ServerFeatures } from './group-run.js';
import { typeOids } from './pg-types.js';
import type { OutputColumn, Plan } from './plans.js';
import { planSelect } from './select-plan.js';
import { refuseSystemCollection } from './system-collections.js';
import { bodyOf, kindOf, listOf, type Node } from './sql-ast.js';
import type { ValueOptions } from './sql-values.js';
import type { TableShape } from './table-shape.js';
import { planDelete, planInsert, planUpdate } from './write-plan.js';

export type Features = ServerFeatures & ValueOptions;

/** MongoDB proper; FerretDB v1 (which names itself in buildInfo) lacks $min/$max accumulators and Decimal128. */
export async function detectFeatures(db: Db): Promise<Features> {
  const info = await db.admin().command({ buildInfo: 1 });
  const ferret = 'ferretdbVersion' in info;
  return { minMaxAccumulators: !ferret, decimal128: !ferret };
}

interface Target {
  readonly kind: 'SelectStmt' | 'InsertStmt' | 'UpdateStmt' | 'DeleteStmt';
  readonly body: Node;
  readonly collection: string;
}

const isWrite = (kind: Target['kind']) => kind !== 'SelectStmt';

export class DocumentsHandler implements StatementHandler {
  private features: Promise<Features> | null = null;
  /** Once detected, so EXPLAIN (which cannot wait) shows the pipelines this server really gets. */
  private detected: Features | null = null;

  constructor(
    private readonly db: Db,
    private readonly catalog: Catalog,
    private readonly schema: string,
  ) {}

  private serverFeatures(): Promise<Features> {
    this.features ??= detectFeatures(this.db).then(
      (features) => (this.detected = features),
      (err: unknown) => {
        this.features = null;
        throw err;
      },
    );
    return this.features;
  }

  private target(stmt: Statement): Target {
    const { kind, body, relation } = statementRelation(stmt.ast, this.schema, unsupported, {
      things: 'collections',
      thing: 'collection',
      oneFrom: 'query one collection per statement and combine results in the application',
      otherStatements: 'use SELECT, INSERT, UPDATE or DELETE (collections are created by their first INSERT)',
    });
    const collection = String(relation.relname);
    refuseSystemCollection(collection, `${this.schema}.${quoteIdent(collection)}`);
    return { kind, body, collection };
  }

  private async plan(stmt: Statement, target: Target, bindings: Bindings): Promise<Plan> {
    // Refused when it would run, as PostgreSQL refuses what it cannot execute: Describe still answers.
    if (isWrite(target.kind) && stmt.session.inTransaction && !bindings.describing)
      throw unsupported(
        'writing documents inside a transaction block',
        'run the INSERT/UPDATE/DELETE outside BEGIN ... COMMIT (it commits on its own)',
      );
    const shape = await this.catalog.shape(target.collection, target.kind === 'InsertStmt');
    return planFor(target, shape, bindings);
  }

  async describe(stmt: Statement): Promise<Description> {
    const target = this.target(stmt);
    const bindings = new Bindings(await this.serverFeatures(), null, stmt.paramTypes);
    const plan = await this.plan(stmt, target, bindings);
    return { params: bindings.paramOids(countParams(stmt)), columns: resultColumns(plan) };
  }

  async execute(stmt: Statement): Promise<StatementResult> {
    const target = this.target(stmt);
    const features = await this.serverFeatures();
    const plan = await this.plan(stmt, target, new Bindings(features, stmt.params, stmt.paramTypes));
    const columns = resultColumns(plan);
    const collection = this.db.collection(plan.collection);
    switch (plan.kind) {
      case 'find':
      case 'group': {
        const rows =
          plan.kind === 'find' ? await runFind(this.db, plan) : await runGroup(this.db, plan, features);
        return { columns, rows, command: `SELECT ${rows.length}` };
      }
      case 'insert': {
        const documents = plan.documents.map((doc) => ({ ...doc }));
        if (documents.length) await collection.insertMany(documents);
        this.catalog.forget(plan.collection);
        const rows = plan.returning ? documents.map((doc) => rowFrom(doc, plan.returning!)) : [];
        return { columns, rows, command: `INSERT 0 ${documents.length}` };
      }
      case 'update': {
        const result = await collection.updateMany(plan.filter, plan.update);
        this.catalog.forget(plan.collection);
        return { columns: null, rows: [], command: `UPDATE ${result.matchedCount}` };
      }
      case 'delete': {
        const result = await collection.deleteMany(plan.filter);
        return { columns: null, rows: [], command: `DELETE ${result.deletedCount}` };
      }
    }
  }

  /** The MongoDB commands as JSON, from the declared or sampled columns. */
  async explain(stmt: Statement): Promise<string> {
    const target = this.target(stmt);
    const shape = await this.catalog.shape(target.collection);
    const features: Features = this.detected ?? { minMaxAccumulators: true, decimal128: true };
    const plan = planFor(target, shape, new Bindings(features, stmt.params, stmt.paramTypes));
    return commandsFor(plan, features)
      .map((command) => BSON.EJSON.stringify(command, { relaxed: true }))
      .join('\n');
  }
}

function planFor(target: Target, shape: TableShape, bindings: Bindings): Plan {
  switch (target.kind) {
    case 'SelectStmt':
      return planSelect(target.body, shape, bindings);
    case 'InsertStmt':
      return planInsert(target.body, shape, bindings, (nodes) => returningColumns(nodes, shape));
    case 'UpdateStmt':
      return planUpdate(target.body, shape, bindings);
    case 'DeleteStmt':
      return planDelete(target.body, shape, bindings);
  }
}

function returningColumns(nodes: Node[], shape: TableShape): OutputColumn[] {
  return nodes.flatMap((node) => {
    const target = bodyOf(node, 'ResTarget')!;
    const val = target.val as Node;
    const fields = listOf(bodyOf(val, 'ColumnRef')?.fields);
    if (fields.length && kindOf(fields[fields.length - 1]) === 'A_Star')
      return shape.columns.map((column) => ({
        name: column.name,
        type: column.type,
        source: { kind: 'field' as const, path: column.path },
      }));
    const value = resolveValue(val, shape);
    if (value.kind !== 'field') throw unsupported('RETURNING a constant', 'return columns');
    const name = typeof target.name === 'string' ? target.name : value.name;
    return [{ name, type: value.type, source: { kind: 'field' as const, path: value.path } }];
  });
}

export function commandsFor(plan: Plan, features: ServerFeatures): Record<string, unknown>[] {
  switch (plan.kind) {
    case 'find':
      return findCommands(plan);
    case 'group':
      return groupCommands(plan, features);
    case 'insert':
      return [{ insert: plan.collection, documents: plan.documents }];
    case 'update':
      return [{ update: plan.collection, updates: [{ q: plan.filter, u: plan.update, multi: true }] }];
    case 'delete':
      return [{ delete: plan.collection, deletes: [{ q: plan.filter, limit: 0 }] }];
  }
}

function resultColumns(plan: Plan): ResultColumn[] | null {
  const columns =
    plan.kind === 'find' || plan.kind === 'group'
      ? plan.columns
      : plan.kind === 'insert'
        ? plan.returning
        : null;
  return columns ? columns.map((c) => ({ name: c.name, typeOid: typeOids[c.type], typeModifier: -1 })) : null;
}

/** The highest $n in the statement text's AST. */
function countParams(stmt: Statement): number {
  let highest = stmt.paramTypes.length;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const param = bodyOf(value, 'ParamRef');
      if (param) highest = Math.max(highest, Number(param.number ?? 0));
      else Object.values(value).forEach(visit);
    }
  };
  visit(stmt.ast);
  return highest;
}

/** A collection name as SQL would write it, for messages. */
function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
