// What the proxy knows of one server session (statements prepared there, settings applied, whose unnamed
// statement it holds), changed only through methods named after what happened on the server.
import type { ParseKind, ResponseRelay } from './response-relay.js';

export class ServerSessionState {
  /** Server-side names of statements prepared on this session (or sent there, awaiting the server's answer). */
  private readonly prepared = new Set<string>();
  /** Settings the proxy applied here on behalf of clients (lower-case name -> the statement that set it). */
  private readonly settings = new Map<string, string>();
  private unnamed: object | null = null;

  /** How many statements the proxy prepared on this session. */
  get preparedCount(): number {
    return this.prepared.size;
  }

  preparedHas(name: string): boolean {
    return this.prepared.has(name);
  }

  /**
   * A Parse of `name` was written: the name counts as prepared at once (later messages of the same round
   * use it); the returned undo forgets it when the server rejects or skips that Parse.
   */
  preparing(name: string): () => void {
    this.prepared.add(name);
    return () => this.prepared.delete(name);
  }

  /** The server answered a Parse of `name` with ParseComplete. */
  statementPrepared(name: string): void {
    this.prepared.add(name);
  }

  /** DEALLOCATE ALL, DISCARD ALL or DISCARD PLANS ran: the server dropped every prepared statement. */
  forgetPrepared(): void {
    this.prepared.clear();
  }

  /** The statement that last applied setting `name` here, if the proxy applied it. */
  setting(name: string): string | undefined {
    return this.settings.get(name);
  }

  get settingsCount(): number {
    return this.settings.size;
  }

  /** Names of the settings the proxy applied here, in the order applied. */
  settingNames(): IterableIterator<string> {
    return this.settings.keys();
  }

  /** `sql` ran on the server and set `name`. */
  settingApplied(name: string, sql: string): void {
    this.settings.set(name, sql);
  }

  /** `name` went back to the server's default (RESET). */
  settingReset(name: string): void {
    this.settings.delete(name);
  }

  /** What was applied is no longer known (RESET ALL, DISCARD ALL, or a SET that may have half-run). */
  forgetSettings(): void {
    this.settings.clear();
  }

  /** DISCARD ALL (or a server reset query) ran: statements and settings are the server's defaults again. */
  discarded(): void {
    this.prepared.clear();
    this.settings.clear();
  }

  /** Whose unnamed statement the server holds (a client's token for its last unnamed Parse), or null. */
  get unnamedOwner(): object | null {
    return this.unnamed;
  }

  /** A Parse of the unnamed statement was written for `owner`. */
  unnamedDefined(owner: object): void {
    this.unnamed = owner;
  }

  /** A simple Query ran, or a Close of the unnamed statement: the server holds none any more. */
  unnamedDropped(): void {
    this.unnamed = null;
  }

  /** The server rejected or skipped `owner`'s unnamed Parse: it holds none of that owner's. */
  unnamedFailed(owner: object): void {
    if (this.unnamed === owner) this.unnamed = null;
  }
}

/**
 * A Parse of server statement `name` is being written on `conn`: the relay pairs its reply with it, and the
 * session counts the name as prepared unless the server rejects or skips the Parse (then `onFail` runs
 * too). False when the server will skip it anyway after an error earlier in the round: nothing is recorded
 * and `onFail` has run.
 */
export function parseSent(
  conn: { relay: ResponseRelay; session: ServerSessionState },
  name: string,
  kind: ParseKind,
  onOk?: () => void,
  onFail?: () => void,
): boolean {
  const undo = conn.session.preparing(name);
  const failed = onFail
    ? () => {
        undo();
        onFail();
      }
    : undo;
  if (conn.relay.trackParse({ epoch: conn.relay.sendEpoch, kind, onOk, onFail: failed })) return true;
  failed();
  return false;
}

/**
 * A Parse of the unnamed statement is being written on `conn` for `owner`: the relay pairs its reply with
 * it, and the server holds `owner`'s unnamed statement unless it rejects or skips the Parse (then `onFail`
 * runs too). False, with `onFail` run, when the server will skip it after an earlier error of the round.
 */
export function unnamedParseSent(
  conn: { relay: ResponseRelay; session: ServerSessionState },
  owner: object,
  kind: ParseKind,
  onFail?: () => void,
): boolean {
  const failed = () => {
    conn.session.unnamedFailed(owner);
    onFail?.();
  };
  if (!conn.relay.trackParse({ epoch: conn.relay.sendEpoch, kind, onFail: failed })) {
    failed();
    return false;
  }
  conn.session.unnamedDefined(owner);
  return true;
}
