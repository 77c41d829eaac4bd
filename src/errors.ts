// The one registry of errors that reach clients: stable codes mapped to SQLSTATE and a hint.
// Each plugin maps its store's own errors to SQLSTATEs in src/plugins/builtin/<plugin>/errors.ts (their registries).
export const errorCodes = {
  protocolViolation: { sqlstate: '08P01', message: 'protocol violation' },
  invalidPassword: { sqlstate: '28P01', message: 'password authentication failed' },
  invalidAuthorization: { sqlstate: '28000', message: 'authentication failed' },
  unknownDatabase: { sqlstate: '3D000', message: 'database does not exist' },
  tooManyConnections: { sqlstate: '53300', message: 'too many client connections' },
  poolTimeout: { sqlstate: '53300', message: 'timed out waiting for a server connection' },
  backendUnavailable: { sqlstate: '08006', message: 'backend server unavailable' },
  /** role: auto: two writable hosts on the same newest timeline; writes are refused rather than guessed. */
  primaryConflict: { sqlstate: '57P03', message: 'two hosts claim to be primary' },
  adminShutdown: { sqlstate: '57P01', message: 'terminating connection due to administrator command' },
  queryCanceled: { sqlstate: '57014', message: 'canceling statement due to user request' },
  programLimitExceeded: { sqlstate: '54000', message: 'message too large' },
  featureNotSupported: { sqlstate: '0A000', message: 'feature not supported' },
  syntaxError: { sqlstate: '42601', message: 'syntax error' },
  undefinedObject: { sqlstate: '42704', message: 'unrecognized configuration parameter' },
  invalidName: { sqlstate: '42602', message: 'invalid name' },
  insufficientPrivilege: { sqlstate: '42501', message: 'permission denied' },
  readOnlyTransaction: { sqlstate: '25006', message: 'cannot execute a write in a read-only transaction' },
  configFileError: { sqlstate: 'F0000', message: 'configuration file error' },
  invalidStatementName: { sqlstate: '26000', message: 'prepared statement does not exist' },
  duplicateStatement: { sqlstate: '42P05', message: 'prepared statement already exists' },
  deadlockDetected: { sqlstate: '40P01', message: 'deadlock detected' },
  // Server errors the proxy's own statements expect (creating the two-phase commit decision log).
  uniqueViolation: { sqlstate: '23505', message: 'duplicate key value violates unique constraint' },
  duplicateSchema: { sqlstate: '42P06', message: 'schema already exists' },
  duplicateTable: { sqlstate: '42P07', message: 'relation already exists' },
  undefinedTable: { sqlstate: '42P01', message: 'relation does not exist' },
  invalidSchemaName: { sqlstate: '3F000', message: 'schema does not exist' },
  inFailedTransaction: {
    sqlstate: '25P02',
    message: 'current transaction is aborted, commands ignored until end of transaction block',
  },
  idleInTransactionTimeout: {
    sqlstate: '25P03',
    message: 'terminating connection due to idle-in-transaction timeout',
  },
  /** query_timeout passed and the server answered neither the statement nor its cancel: its connection is closed. */
  serverUnresponsive: {
    sqlstate: '08006',
    message:
      'the server answered neither the statement nor a cancel request within query_timeout; its connection was closed',
  },
  invalidParameterValue: { sqlstate: '22023', message: 'invalid parameter value' },
  invalidRouteValue: {
    sqlstate: '22023',
    message: 'invalid value for polyproxy.route: expected primary, replica or auto',
  },
  invalidCursorName: { sqlstate: '34000', message: 'portal does not exist' },
  internalError: { sqlstate: 'XX000', message: 'internal error' },
  // Errors plugins answer for statements they translate (as PostgreSQL would answer them).
  invalidTextRepresentation: { sqlstate: '22P02', message: 'invalid input syntax' },
  badCopyFileFormat: { sqlstate: '22P04', message: 'bad COPY file format' },
  numericValueOutOfRange: { sqlstate: '22003', message: 'value out of range' },
  undefinedColumn: { sqlstate: '42703', message: 'column does not exist' },
  notNullViolation: { sqlstate: '23502', message: 'null value violates not-null constraint' },
  groupingError: { sqlstate: '42803', message: 'column must appear in the GROUP BY clause' },
  connectionFailure: { sqlstate: '08006', message: 'connection failure' },
  /** The SQLSTATE of a NOTICE that reports no condition (the admin console's notices). */
  successfulCompletion: { sqlstate: '00000', message: 'successful completion' },
  transactionRollback: { sqlstate: '40000', message: 'transaction rolled back' },
  wrongObjectType: { sqlstate: '42809', message: 'wrong object type' },
  configurationLimitExceeded: { sqlstate: '53400', message: 'configuration limit exceeded' },
  /** A statement waited for a reshard's cutover longer than reshard.pause_timeout; the cutover was abandoned. */
  reshardPauseTimeout: { sqlstate: '55P03', message: 'timed out waiting for a reshard cutover' },
  /** This proxy instance did not take part in a reshard's cutover: it must not write to the old shards. */
  reshardRefused: { sqlstate: '57P03', message: 'the database was resharded without this proxy instance' },
  // More of PostgreSQL's own conditions, for what the plugins answer (and their stores' errors mapped to them).
  stringDataRightTruncation: { sqlstate: '22001', message: 'value too long for type' },
  invalidDatetimeFormat: { sqlstate: '22007', message: 'invalid input syntax for a date or time' },
  divisionByZero: { sqlstate: '22012', message: 'division by zero' },
  invalidRowCountInLimitClause: { sqlstate: '2201W', message: 'LIMIT must not be negative' },
  foreignKeyViolation: { sqlstate: '23503', message: 'violates foreign key constraint' },
  checkViolation: { sqlstate: '23514', message: 'violates check constraint' },
  invalidTransactionState: { sqlstate: '25000', message: 'invalid transaction state' },
  serializationFailure: { sqlstate: '40001', message: 'could not serialize access' },
  syntaxErrorOrAccessRuleViolation: { sqlstate: '42000', message: 'syntax error or access rule violation' },
  ambiguousColumn: { sqlstate: '42702', message: 'column reference is ambiguous' },
  duplicateObject: { sqlstate: '42710', message: 'object already exists' },
  duplicateAlias: { sqlstate: '42712', message: 'table name specified more than once' },
  datatypeMismatch: { sqlstate: '42804', message: 'datatype mismatch' },
  undefinedFunction: { sqlstate: '42883', message: 'function does not exist' },
  undefinedParameter: { sqlstate: '42P02', message: 'there is no parameter' },
  invalidColumnReference: { sqlstate: '42P10', message: 'invalid column reference' },
  lockNotAvailable: { sqlstate: '55P03', message: 'could not obtain lock' },
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** An error meant for the client: carries the SQLSTATE and a hint saying what to do. */
export class ProxyError extends Error {
  readonly sqlstate: string;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly hint?: string,
    readonly severity: 'ERROR' | 'FATAL' = 'ERROR',
  ) {
    super(message ?? errorCodes[code].message);
    this.sqlstate = errorCodes[code].sqlstate;
  }
}
