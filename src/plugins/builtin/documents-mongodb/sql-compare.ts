// Orders and compares values the way SQL does for the proxy-side steps (HAVING, ORDER BY over grouped rows).
import { ObjectId } from 'mongodb';
import { bsonKind, toNumber } from './bson-kinds.js';

export type Sortable = number | bigint | string | boolean | null;

/** A BSON value reduced to something JS can compare; null for NULL. */
export function sortable(value: unknown): Sortable {
  switch (bsonKind(value)) {
    case 'null':
      return null;
    case 'string':
    case 'bool':
      return value as string | boolean;
    case 'int64':
      return typeof value === 'bigint' ? value : BigInt((value as { toString(): string }).toString());
    case 'int32':
    case 'double':
    case 'decimal':
      return toNumber(value);
    case 'date':
      return (value as Date).getTime();
    case 'objectId':
      return (value as ObjectId).toHexString();
    default:
      return JSON.stringify(value);
  }
}

/** Compares two non-null values; numbers and bigints compare across kinds. */
export function compareSortable(a: Exclude<Sortable, null>, b: Exclude<Sortable, null>): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/** ORDER BY comparison including NULL placement. */
export function compareForOrder(a: Sortable, b: Sortable, descending: boolean, nullsFirst: boolean): number {
  if (a === null || b === null) {
    if (a === b) return 0;
    return (a === null) === nullsFirst ? -1 : 1;
  }
  const order = compareSortable(a, b);
  return descending ? -order : order;
}
