// One shard's rows of one client CopyData message, as ranges of the client's bytes until they are sent.
import { Frontend } from '../protocol/codes.js';

export class CopyBatch {
  private chunks: Buffer[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  private length = 0;

  /** Adds a row; a row right after the last one in the same chunk extends it (runs of rows copy as one). */
  push(chunk: Buffer, start: number, end: number): void {
    const last = this.chunks.length - 1;
    if (last >= 0 && this.chunks[last] === chunk && this.ends[last] === start) this.ends[last] = end;
    else {
      this.chunks.push(chunk);
      this.starts.push(start);
      this.ends.push(end);
    }
    this.length += end - start;
  }

  get empty(): boolean {
    return this.length === 0;
  }

  /** The rows as one CopyData message, each byte copied once. */
  message(): Buffer {
    const out = Buffer.allocUnsafe(5 + this.length);
    out[0] = Frontend.CopyData;
    out.writeInt32BE(4 + this.length, 1);
    let at = 5;
    for (let i = 0; i < this.chunks.length; i++)
      at += this.chunks[i].copy(out, at, this.starts[i], this.ends[i]);
    return out;
  }
}
