// Converts between PostgreSQL's binary and text forms for the common types, where the proxy itself answers a statement.
import { float8Text } from './float-text.js';
import { dateText, numericText, timestampText } from './binary-temporal.js';
import { Oid } from './type-oids.js';

const textual = new Set<number>([Oid.text, Oid.varchar, Oid.bpchar, Oid.name, Oid.json, Oid.unknown, 0]);

/** A binary parameter as text, or undefined when its type is not one the proxy knows. */
export function binaryToText(value: Buffer, oid: number): string | undefined {
  if (textual.has(oid)) return value.toString('utf8');
  switch (oid) {
    case Oid.bool:
      return value[0] ? 't' : 'f';
    case Oid.int2:
      return String(value.readInt16BE(0));
    case Oid.int4:
      return String(value.readInt32BE(0));
    case Oid.oid:
      return String(value.readUInt32BE(0));
    case Oid.int8:
      return value.readBigInt64BE(0).toString();
    case Oid.float4:
      return float8Text(value.readFloatBE(0));
    case Oid.float8:
      return float8Text(value.readDoubleBE(0));
    case Oid.bytea:
      return `\\x${value.toString('hex')}`;
    case Oid.uuid: {
      const h = value.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case Oid.jsonb:
      // Version byte 1, then the JSON text.
      return value.subarray(1).toString('utf8');
    case Oid.date:
      return dateText(value);
    case Oid.timestamp:
      return timestampText(value);
    case Oid.numeric:
      return numericText(value);
    default:
      return undefined;
  }
}

/** A text value in binary form, or undefined when the type is not one the proxy knows. */
export function textToBinary(text: string, oid: number): Buffer | undefined {
  if (textual.has(oid)) return Buffer.from(text, 'utf8');
  const b = (n: number) => Buffer.alloc(n);
  switch (oid) {
    case Oid.bool:
      return Buffer.from([text === 't' || text === 'true' ? 1 : 0]);
    case Oid.int2: {
      const out = b(2);
      out.writeInt16BE(Number(text));
      return out;
    }
    case Oid.int4: {
      const out = b(4);
      out.writeInt32BE(Number(text));
      return out;
    }
    case Oid.oid: {
      const out = b(4);
      out.writeUInt32BE(Number(text));
      return out;
    }
    case Oid.int8: {
      const out = b(8);
      out.writeBigInt64BE(BigInt(text));
      return out;
    }
    case Oid.float4: {
      const out = b(4);
      out.writeFloatBE(Number(text));
      return out;
    }
    case Oid.float8: {
      const out = b(8);
      out.writeDoubleBE(Number(text));
      return out;
    }
    case Oid.bytea:
      return text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : Buffer.from(text, 'utf8');
    case Oid.uuid:
      return Buffer.from(text.replace(/-/g, ''), 'hex');
    case Oid.jsonb:
      return Buffer.concat([Buffer.from([1]), Buffer.from(text, 'utf8')]);
    default:
      return undefined;
  }
}
