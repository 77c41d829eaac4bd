// PostgreSQL type OIDs the engine compares, sums and formats.
import { Oid } from '../../protocol/type-oids.js';

export { Oid };

export const integerTypes: ReadonlySet<number> = new Set([Oid.int2, Oid.int4, Oid.int8, Oid.oid]);
export const floatTypes: ReadonlySet<number> = new Set([Oid.float4, Oid.float8]);
