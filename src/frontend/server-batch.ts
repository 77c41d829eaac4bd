// The bytes a client session sends its server connection next: the client's own messages as slices of the read buffer, the proxy's between them.

export class ServerBatch {
  /** The batch's first part, and the others when there are more (a round in one read is one part). */
  private first: Buffer | null = null;
  private more: Buffer[] | null = null;
  /** The open run of the client's own bytes: neighbouring messages of one read go as one slice. */
  private runBuf: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;

  /** Adds bytes of the client's own message, coalescing neighbours into one slice. */
  pass(buf: Buffer, start: number, end: number): void {
    if (buf === this.runBuf && start === this.runEnd) {
      this.runEnd = end;
      return;
    }
    this.seal();
    this.runBuf = buf;
    this.runStart = start;
    this.runEnd = end;
  }

  /** Adds a message of the proxy's own (a renamed Parse, an injected Close). */
  push(b: Buffer): void {
    this.seal();
    this.add(b);
  }

  private add(b: Buffer): void {
    if (this.first === null) this.first = b;
    else (this.more ??= []).push(b);
  }

  /** Ends the open run, so the read buffer it points into may be reused once the batch is taken. */
  seal(): void {
    const buf = this.runBuf;
    if (!buf) return;
    // A run that is the whole read (one round in one read, the usual case) goes as it is: no view to make.
    this.add(
      this.runStart === 0 && this.runEnd === buf.length ? buf : buf.subarray(this.runStart, this.runEnd),
    );
    this.runBuf = null;
  }

  /** Everything batched, as one buffer, and an empty batch; null when there is nothing. */
  take(): Buffer | null {
    this.seal();
    const first = this.first;
    if (first === null) return null;
    const data = this.more === null ? first : Buffer.concat([first, ...this.more]);
    this.first = null;
    this.more = null;
    return data;
  }
}
