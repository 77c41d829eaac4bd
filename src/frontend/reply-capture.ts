// Collects a statement's reply as PostgreSQL encoded it (RowDescription, DataRows, CommandComplete) for a plugin such as the cache.
import type { EncodedResult } from '../plugins/api.js';
import { Backend } from '../protocol/codes.js';
import { MessageFramer } from '../protocol/framer.js';

/** Above this a reply is not kept: the cache plugin has its own, smaller limit. */
const maxCaptureBytes = 64 * 1024 * 1024;

export class ReplyCapture {
  private readonly framer = new MessageFramer(maxCaptureBytes);
  private rowDescription: Buffer | null = null;
  private readonly rows: Buffer[] = [];
  private bytes = 0;
  private command: string | null = null;
  /** An error, a notice, a second result or too many bytes: the reply is not one to keep. */
  private spoiled = false;

  feed(chunk: Buffer): void {
    if (this.spoiled) return;
    this.framer.feed(chunk, this.visit);
  }

  private readonly visit = (type: number, buf: Buffer, start: number, end: number): void => {
    if (this.spoiled) return;
    switch (type) {
      case Backend.RowDescription:
        if (this.rowDescription || this.command !== null) this.spoiled = true;
        else this.rowDescription = Buffer.from(buf.subarray(start, end));
        break;
      case Backend.DataRow:
        this.bytes += end - start;
        if (this.bytes > maxCaptureBytes) this.spoiled = true;
        else this.rows.push(Buffer.from(buf.subarray(start, end)));
        break;
      case Backend.CommandComplete:
        if (this.command !== null) this.spoiled = true;
        else this.command = buf.toString('utf8', start + 5, end - 1);
        break;
      case Backend.ParseComplete:
      case Backend.BindComplete:
      case Backend.ReadyForQuery:
      case Backend.ParameterDescription:
      case Backend.NoData:
      case Backend.CloseComplete:
        break;
      default:
        // ErrorResponse, NoticeResponse, PortalSuspended, COPY, notifications: not a plain result.
        this.spoiled = true;
    }
  };

  /** The whole result, or null when it must not be kept. */
  result(): EncodedResult | null {
    if (this.spoiled || this.command === null) return null;
    return {
      rowDescription: this.rowDescription,
      dataRows: Buffer.concat(this.rows),
      rowCount: this.rows.length,
      command: this.command,
    };
  }
}
