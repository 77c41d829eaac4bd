// BEGIN, COMMIT, SAVEPOINT and friends: what they do to the transaction block and where they may run.
import type { TransactionControl } from './statement-info.js';
import { read, write, type StatementVerdict } from './statement-verdict.js';

interface TransactionModes {
  readOnly: boolean;
  /** READ WRITE was given, overriding a read-only session default. */
  readWrite: boolean;
  /** A standby refuses serializable transactions, read-only or not, so they need the primary. */
  serializable: boolean;
}

type DefElemList = {
  DefElem?: { defname?: string; arg?: { A_Const?: { ival?: { ival?: number }; sval?: { sval?: string } } } };
}[];

/** Reads the modes of BEGIN, START TRANSACTION and SET TRANSACTION (the parser gives them as options). */
export function transactionModes(options: DefElemList | undefined): TransactionModes {
  const modes = { readOnly: false, readWrite: false, serializable: false };
  for (const { DefElem: opt } of options ?? []) {
    const value = opt?.arg?.A_Const;
    if (opt?.defname === 'transaction_read_only') {
      modes.readOnly = value?.ival?.ival === 1;
      modes.readWrite = !modes.readOnly;
    }
    if (opt?.defname === 'transaction_isolation') modes.serializable = value?.sval?.sval === 'serializable';
  }
  return modes;
}

/**
 * A read-write BEGIN needs the primary for the whole block it opens; BEGIN READ ONLY can run on a
 * replica. COMMIT, ROLLBACK and savepoints run wherever the block already is, so they are reads.
 * Two-phase commit statements act on prepared transactions, which exist only on the primary.
 */
export function classifyTransaction(body: {
  kind?: string;
  options?: DefElemList;
  chain?: boolean;
}): StatementVerdict {
  const control = (
    kind: TransactionControl['kind'],
    readOnly = false,
    readWrite = false,
  ): TransactionControl => ({
    kind,
    readOnly,
    ...(readWrite && { readWrite }),
    ...(body.chain && { chain: true }),
  });
  switch (body.kind) {
    case 'TRANS_STMT_BEGIN':
    case 'TRANS_STMT_START': {
      const modes = transactionModes(body.options);
      const verdict = !modes.readOnly
        ? write('transaction-begin')
        : modes.serializable
          ? write('serializable-transaction')
          : read('transaction-begin');
      return { ...verdict, transaction: control('begin', modes.readOnly, modes.readWrite) };
    }
    case 'TRANS_STMT_COMMIT':
      return { ...read('transaction-commit'), transaction: control('commit') };
    case 'TRANS_STMT_ROLLBACK':
      return { ...read('transaction-rollback'), transaction: control('rollback') };
    case 'TRANS_STMT_SAVEPOINT':
      return { ...read('transaction-savepoint'), transaction: control('other') };
    case 'TRANS_STMT_RELEASE':
      return { ...read('transaction-release'), transaction: control('other') };
    case 'TRANS_STMT_ROLLBACK_TO':
      return { ...read('transaction-rollback-to'), transaction: control('other') };
    case 'TRANS_STMT_PREPARE':
      // PREPARE TRANSACTION ends the session's block just as COMMIT does.
      return { ...write('prepare-transaction'), transaction: control('commit') };
    case 'TRANS_STMT_COMMIT_PREPARED':
      return { ...write('commit-prepared'), transaction: control('other') };
    case 'TRANS_STMT_ROLLBACK_PREPARED':
      return { ...write('rollback-prepared'), transaction: control('other') };
    default:
      return { ...write('transaction-unknown'), transaction: control('other') };
  }
}
