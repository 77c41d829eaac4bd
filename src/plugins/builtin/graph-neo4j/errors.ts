// Neo4j and driver errors as PluginErrors with the SQLSTATE a PostgreSQL client would expect, and Neo4j's message.
import { PluginError } from '../../api.js';

/** Exact Neo4j status codes first, then their classification prefixes (longest first). */
const byCode: Record<string, string> = {
  'Neo.ClientError.Statement.SyntaxError': '42601',
  'Neo.ClientError.Statement.ParameterMissing': '42P02',
  'Neo.ClientError.Statement.TypeError': '22023',
  'Neo.ClientError.Statement.ArgumentError': '22023',
  'Neo.ClientError.Statement.ArithmeticError': '22012',
  'Neo.ClientError.Statement.EntityNotFound': '22023',
  'Neo.ClientError.Statement.SemanticError': '42601',
  'Neo.ClientError.Statement.AccessMode': '25006',
  'Neo.ClientError.Schema.ConstraintValidationFailed': '23505',
  'Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists': '42710',
  'Neo.ClientError.Schema.ConstraintAlreadyExists': '42710',
  'Neo.ClientError.Schema.IndexAlreadyExists': '42P07',
  'Neo.ClientError.Database.DatabaseNotFound': '3F000',
  'Neo.ClientError.Security.Unauthorized': '28P01',
  'Neo.ClientError.Security.AuthenticationRateLimit': '28000',
  'Neo.ClientError.Security.Forbidden': '42501',
  'Neo.ClientError.Transaction.TransactionTimedOut': '57014',
  'Neo.ClientError.Transaction.Terminated': '57014',
  'Neo.TransientError.Transaction.DeadlockDetected': '40P01',
  'Neo.TransientError.Transaction.Terminated': '57014',
  'Neo.TransientError.General.DatabaseUnavailable': '08006',
  ServiceUnavailable: '08006',
  SessionExpired: '08006',
};

const byPrefix: [string, string][] = [
  ['Neo.ClientError.Schema.', '42000'],
  ['Neo.ClientError.Statement.', '42000'],
  ['Neo.ClientError.Transaction.', '25000'],
  ['Neo.ClientError.Security.', '42501'],
  ['Neo.ClientError.', '42000'],
  ['Neo.TransientError.', '40001'],
  ['Neo.DatabaseError.', 'XX000'],
];

export function sqlstateFor(code: string | undefined): string {
  if (code === undefined) return 'XX000';
  return byCode[code] ?? byPrefix.find(([prefix]) => code.startsWith(prefix))?.[1] ?? 'XX000';
}

function hintFor(sqlstate: string, database: string): string | undefined {
  if (sqlstate === '08006') return 'Check that Neo4j is running and plugins.graph.url points at it.';
  if (sqlstate === '3F000')
    return `Create the Neo4j database "${database}" or map the graph to another one in plugins.graph.graphs.`;
  if (sqlstate === '40001' || sqlstate === '40P01') return 'The transaction can be retried.';
  return undefined;
}

/** Our own PluginErrors pass through; anything else from the driver or Neo4j is translated. */
export function toPluginError(err: unknown, database: string): PluginError {
  if (err instanceof PluginError) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const sqlstate = sqlstateFor(typeof code === 'string' ? code : undefined);
  const prefix = sqlstate === '08006' ? 'Neo4j is unavailable: ' : '';
  const status = typeof code === 'string' && code.startsWith('Neo.') ? `Neo4j status ${code}.` : undefined;
  const hint = [hintFor(sqlstate, database), status].filter(Boolean).join(' ') || undefined;
  return new PluginError(sqlstate, `${prefix}${message}`, hint);
}
