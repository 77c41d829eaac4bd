// Streams a server's replies to the attached client while tracking just enough to pool the connection.
//
// Rows and other bulky messages are forwarded as the bytes arrived, never decoded. The relay reads only
// message headers, plus the bodies of the few small messages it must understand: ReadyForQuery (to know
// when the connection may return to the pool), ParameterStatus, ErrorResponse and ParseComplete (to hide
// the replies to statements the proxy prepared on the client's behalf).
import { Backend } from '../protocol/codes.js';
import { MessageReader } from '../protocol/reader.js';

export interface RelayTarget {
  /** Bytes for the client, in order. */
  send(chunk: Buffer): void;
  /** ReadyForQuery of a client request arrived (already forwarded). */
  onReady(status: number): void;
  onParameterStatus(name: string, value: string): void;
  /** The server connection closed while attached. */
  onServerLost(): void;
  /** An ErrorResponse for the client arrived (its body), for error metrics. */
  onServerError?(body: Buffer): void;
  /** May rewrite an ErrorResponse body (for example to show the client's statement names); null keeps it. */
  rewriteError?(body: Buffer): Buffer | null;
}

/** Who a Parse or Close was sent for: the client (its reply is forwarded) or the proxy itself (hidden). */
export const enum ParseKind {
  Client,
  Injected,
}

export interface PendingParse {
  epoch: number;
  kind: ParseKind;
  /** Called when PostgreSQL skipped or rejected this Parse. */
  onFail?: () => void;
  /** Called when PostgreSQL answered ParseComplete. */
  onOk?: () => void;
}

interface InternalQuery {
  epoch: number;
  error?: string;
  /** The first row of the reply, as text. */
  row?: (string | null)[];
  done: (error?: string, row?: (string | null)[]) => void;
}

const collectLimit = 65536;

export class ResponseRelay {
  target: RelayTarget | null = null;
  /** Sync and Query messages sent / ReadyForQuery received: equal when the server is idle. */
  sendEpoch = 0;
  recvEpoch = 0;
  status = 0x49;
  private erroredEpoch = -1;
  private parses: PendingParse[] = [];
  private closes: PendingParse[] = [];
  private internal: InternalQuery[] = [];

  private header = Buffer.allocUnsafe(5);
  private readonly statusBody = Buffer.allocUnsafe(1);
  private headerLen = 0;
  private type = 0;
  private bodyLeft = 0;
  private dropping = false;
  private collect: Buffer | null = null;
  private collected = 0;

  /** An ErrorResponse arrived while no client and no query of the proxy's own was waiting (a FATAL). */
  onIdleError: (() => void) | null = null;
  /** The ErrorResponse being read is held back whole, to be forwarded (or rewritten) when complete. */
  private holdingError = false;

  /** Extended-protocol messages were sent since the last Sync: the server owes replies not yet counted. */
  roundOpen = false;

  /** The server sent the attached client a FATAL error: the server's own word on why it is closing. */
  fatalRelayed = false;

  busy(): boolean {
    return this.sendEpoch !== this.recvEpoch || this.roundOpen;
  }

  /** Records a Parse just written to the server, unless the server will skip it after an error. */
  trackParse(p: PendingParse): boolean {
    if (p.epoch === this.erroredEpoch && this.recvEpoch === p.epoch) return false;
    this.parses.push(p);
    return true;
  }

  /** Records a Close just written to the server; the proxy's own have their CloseComplete hidden. */
  trackClose(p: PendingParse): void {
    if (p.epoch === this.erroredEpoch && this.recvEpoch === p.epoch) return;
    this.closes.push(p);
  }

  /** Runs a query of the proxy's own whose replies never reach the client; resolves to its error, if any. */
  internalQuery(write: (b: Buffer) => void, message: Buffer): Promise<string | undefined> {
    return this.internalQueryRow(write, message).then((r) => r.error);
  }

  /** Like internalQuery, also resolving to the first row of the reply (text format). */
  internalQueryRow(
    write: (b: Buffer) => void,
    message: Buffer,
  ): Promise<{ error?: string; row?: (string | null)[] }> {
    return new Promise((resolve) => {
      this.internal.push({ epoch: this.sendEpoch, done: (error, row) => resolve({ error, row }) });
      this.sendEpoch++;
      write(message);
    });
  }

  /** Fails every pending internal query: the connection is gone. */
  abort(reason: string): void {
    for (const q of this.internal.splice(0)) q.done(reason);
  }

  process(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    let runStart = 0;
    while (pos < len) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, len - pos);
        if (this.collect) {
          chunk.copy(this.collect, this.collected, pos, pos + n);
          this.collected += n;
        }
        if (this.dropping) {
          if (pos > runStart) this.emit(chunk.subarray(runStart, pos));
          runStart = pos + n;
        }
        pos += n;
        this.bodyLeft -= n;
        if (this.bodyLeft === 0) runStart = this.finishMessage(chunk, runStart, pos);
        continue;
      }
      let type: number;
      let size: number;
      if (this.headerLen > 0 || len - pos < 5) {
        const n = Math.min(5 - this.headerLen, len - pos);
        chunk.copy(this.header, this.headerLen, pos, pos + n);
        if (pos > runStart) this.emit(chunk.subarray(runStart, pos));
        this.headerLen += n;
        pos += n;
        runStart = pos;
        if (this.headerLen < 5) break;
        this.headerLen = 0;
        type = this.header[0];
        size = this.header.readInt32BE(1);
        this.startMessage(type, size);
        if (!this.dropping) this.emit(Buffer.from(this.header));
      } else {
        type = chunk[pos];
        size = chunk.readInt32BE(pos + 1);
        this.startMessage(type, size);
        if (this.dropping && pos > runStart) this.emit(chunk.subarray(runStart, pos));
        pos += 5;
        if (this.dropping) runStart = pos;
      }
      if (this.bodyLeft === 0) runStart = this.finishMessage(chunk, runStart, pos);
    }
    if (pos > runStart && !this.dropping) this.emitPart(chunk, runStart, pos);
  }

  private emit(b: Buffer): void {
    if (this.target && b.length > 0) this.target.send(b);
  }

  /** Bytes [from, to) of a chunk: the chunk itself when that is all of it (a whole reply in one read). */
  private emitPart(chunk: Buffer, from: number, to: number): void {
    this.emit(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
  }

  private startMessage(type: number, size: number): void {
    this.type = type;
    this.bodyLeft = size - 4;
    const internal = this.internal.length > 0 && this.internal[0].epoch === this.recvEpoch;
    this.dropping = internal;
    if (type === Backend.ParseComplete && !internal) {
      const p = this.parses.shift();
      p?.onOk?.();
      if (p && p.kind === ParseKind.Injected) this.dropping = true;
    } else if (type === Backend.CloseComplete && !internal) {
      const c = this.closes.shift();
      if (c && c.kind === ParseKind.Injected) this.dropping = true;
    }
    const inspect =
      type === Backend.ReadyForQuery ||
      type === Backend.ErrorResponse ||
      type === Backend.ParameterStatus ||
      (internal && type === Backend.DataRow);
    if (inspect && this.bodyLeft <= collectLimit) {
      // ReadyForQuery's one-byte status is read as soon as it is complete: one buffer serves every round.
      this.collect =
        type === Backend.ReadyForQuery && this.bodyLeft === 1
          ? this.statusBody
          : Buffer.allocUnsafe(this.bodyLeft);
      this.collected = 0;
    } else {
      this.collect = null;
    }
    this.holdingError =
      type === Backend.ErrorResponse &&
      !this.dropping &&
      this.collect !== null &&
      !!this.target?.rewriteError;
    if (this.holdingError) this.dropping = true;
  }

  /** Acts on a message just completed at `pos`; returns where the unsent run of the chunk now starts. */
  private finishMessage(chunk: Buffer, runStart: number, pos: number): number {
    const body = this.collect;
    this.collect = null;
    switch (this.type) {
      case Backend.ReadyForQuery:
        // The reply must reach the client before the connection can be handed to someone else.
        if (!this.dropping && pos > runStart) this.emitPart(chunk, runStart, pos);
        this.onReadyForQuery(body ? body[0] : 0x49);
        return pos;
      case Backend.ErrorResponse:
        this.onError(body);
        if (this.holdingError && body)
          this.emit(withHeader(Backend.ErrorResponse, this.target?.rewriteError?.(body) ?? body));
        break;
      case Backend.DataRow: {
        const q = this.internal[0];
        if (body && q && q.epoch === this.recvEpoch && !q.row) q.row = decodeTextRow(body);
        break;
      }
      case Backend.ParameterStatus:
        if (body && !this.dropping && this.target) {
          const r = new MessageReader(body, 0, body.length);
          this.target.onParameterStatus(r.cstring(), r.cstring());
        }
        break;
    }
    return this.dropping ? pos : runStart;
  }

  private onReadyForQuery(status: number): void {
    this.status = status;
    const epoch = this.recvEpoch++;
    // Parses that never got an answer in this round were skipped by the server.
    while (this.parses.length > 0 && this.parses[0].epoch <= epoch) this.parses.shift()?.onFail?.();
    while (this.closes.length > 0 && this.closes[0].epoch <= epoch) this.closes.shift();
    if (this.internal.length > 0 && this.internal[0].epoch === epoch) {
      const q = this.internal.shift()!;
      q.done(q.error, q.row);
      return;
    }
    this.target?.onReady(status);
  }

  private onError(body: Buffer | null): void {
    if (!this.target && this.internal.length === 0) this.onIdleError?.();
    const epoch = this.recvEpoch;
    this.erroredEpoch = epoch;
    while (this.parses.length > 0 && this.parses[0].epoch === epoch) this.parses.shift()?.onFail?.();
    while (this.closes.length > 0 && this.closes[0].epoch === epoch) this.closes.shift();
    const q = this.internal[0];
    if (q && q.epoch === epoch) q.error = body ? errorMessageOf(body) : 'error';
    else if (body && this.target) {
      if (isFatal(body)) this.fatalRelayed = true;
      this.target.onServerError?.(body);
    }
  }
}

function decodeTextRow(body: Buffer): (string | null)[] {
  const r = new MessageReader(body, 0, body.length);
  const values: (string | null)[] = [];
  for (let n = r.int16(); n > 0; n--) {
    const len = r.int32();
    values.push(len < 0 ? null : r.bytes(len).toString());
  }
  return values;
}

function withHeader(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/** Whether an ErrorResponse body's severity (the non-localized V field, else S) is FATAL or PANIC. */
function isFatal(body: Buffer): boolean {
  const r = new MessageReader(body, 0, body.length);
  let severity = '';
  while (r.remaining() > 1) {
    const field = r.int8();
    const value = r.cstring();
    if (field === 0x56) return value === 'FATAL' || value === 'PANIC';
    if (field === 0x53) severity = value;
  }
  return severity === 'FATAL' || severity === 'PANIC';
}

/** The M field of an ErrorResponse body, for logs. */
export function errorMessageOf(body: Buffer): string {
  const r = new MessageReader(body, 0, body.length);
  let message = 'error';
  let code = '';
  while (r.remaining() > 1) {
    const field = r.int8();
    const value = r.cstring();
    if (field === 0x4d) message = value;
    if (field === 0x43) code = value;
  }
  return code ? `${message} (SQLSTATE ${code})` : message;
}
