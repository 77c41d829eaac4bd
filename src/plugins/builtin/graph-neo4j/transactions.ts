// One explicit Neo4j transaction per client session and database inside a SQL transaction block, ended by COMMIT/ROLLBACK.
import neo4j, { type Driver, type Session, type Transaction } from 'neo4j-driver';
import type { SessionView } from '../../api.js';
import { readOnlyRefusal } from '../../read-only.js';
import type { AccessMode } from './access-mode.js';
import { toPluginError } from './errors.js';

interface OpenTransaction {
  readonly session: Session;
  readonly tx: Transaction;
  readonly mode: AccessMode;
}

/**
 * A block's statements are not classified one by one: a read may be followed by a write in the same
 * transaction, so block transactions open in write mode (on a cluster, the leader), unless the SQL
 * transaction is read-only: then in read mode, where Neo4j refuses every write.
 */
export class BlockTransactions {
  /**
   * Keyed by the client session's settings map: the host builds a new SessionView for every statement, but
   * hands each one the same settings object for as long as the client is connected (RESET ALL inside a
   * block would replace it, and the block's later statements would then use a transaction of their own).
   */
  private readonly open = new WeakMap<object, Map<string, OpenTransaction>>();

  constructor(private readonly driver: Driver) {}

  /** The block's transaction on this database, begun and enlisted on first use; `mode` is what the statement may do. */
  transactionFor(client: SessionView, database: string, mode: AccessMode): Transaction {
    const key = client.settings;
    let byDatabase = this.open.get(key);
    if (!byDatabase) {
      byDatabase = new Map();
      this.open.set(key, byDatabase);
    }
    const existing = byDatabase.get(database);
    if (existing) {
      // Made read-only (SET TRANSACTION) after Neo4j's transaction began in write mode: Neo4j would not refuse.
      if (client.readOnly && existing.mode === 'write' && mode === 'write') throw readOnlyRefusal('CALL');
      // A transaction Neo4j already ended (an error inside it) stays until the block's ROLLBACK reaches us.
      return existing.tx;
    }
    const blockMode: AccessMode = client.readOnly ? 'read' : 'write';
    const session = this.driver.session({
      database,
      defaultAccessMode: blockMode === 'read' ? neo4j.session.READ : neo4j.session.WRITE,
    });
    const tx = session.beginTransaction();
    const entry = { session, tx, mode: blockMode };
    byDatabase.set(database, entry);
    const finish = async () => {
      if (byDatabase.get(database) === entry) byDatabase.delete(database);
      await session.close();
    };
    client.enlist({
      commit: async () => {
        try {
          await tx.commit();
        } catch (err) {
          throw toPluginError(err, database);
        } finally {
          await finish();
        }
      },
      rollback: async () => {
        try {
          // A transaction that failed on Neo4j's side is already rolled back there.
          if (tx.isOpen()) await tx.rollback();
        } catch {
          // Rolling back an unusable transaction has nothing left to undo.
        } finally {
          await finish();
        }
      },
    });
    return tx;
  }
}
