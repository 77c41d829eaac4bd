// MySQL SQL under construction: text pieces and placeholders whose PostgreSQL type the surrounding expression decides.
import type { TableColumn } from './catalog.js';
import type { PgType } from './pg-types.js';

/** One `?`: a client parameter ($n) or a quoted literal of the statement, bound as a value, never spliced into text. */
export interface Slot {
  readonly kind: 'slot';
  readonly param?: number;
  readonly literal?: string | null;
  /** Decided by context (the column it is compared with or stored in); null: sent as text. */
  type: PgType | null;
}

export type Part = string | Slot;

export interface Frag {
  readonly parts: readonly Part[];
  readonly type: PgType | null;
  /** Set for a placeholder standing alone, so that context can type it. */
  readonly slot?: Slot;
  /** Set for a plain column reference. */
  readonly column?: TableColumn;
  /** False when the value can never be NULL (a NOT NULL column, a constant). */
  readonly nullable?: boolean;
}

export const text = (sql: string, type: PgType | null = null): Frag => ({ parts: [sql], type });

/** Pieces and fragments in order; the result has the given type. */
export function join(type: PgType | null, ...items: (string | Frag)[]): Frag {
  const parts: Part[] = [];
  for (const item of items) {
    if (typeof item === 'string') parts.push(item);
    else parts.push(...item.parts);
  }
  return { parts, type };
}

export function list(items: readonly Frag[], separator = ', '): Frag {
  const parts: Part[] = [];
  items.forEach((item, i) => {
    if (i > 0) parts.push(separator);
    parts.push(...item.parts);
  });
  return { parts, type: null };
}

export function slotFrag(slot: Slot): Frag {
  return {
    parts: [slot],
    type: slot.type,
    slot,
    nullable: slot.literal === null || slot.param !== undefined,
  };
}

/** Gives an untyped placeholder the type of the other side; returns the type both sides now share. */
export function unify(a: Frag, b: Frag): PgType | null {
  if (a.slot && a.slot.type === null && b.type !== null) a.slot.type = b.type;
  if (b.slot && b.slot.type === null && a.type !== null) b.slot.type = a.type;
  return a.slot?.type ?? a.type ?? b.slot?.type ?? b.type;
}

export const quoteName = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** The SQL text and its placeholders in order. */
export function render(frag: Frag): { sql: string; slots: Slot[] } {
  const slots: Slot[] = [];
  let sql = '';
  for (const part of frag.parts) {
    if (typeof part === 'string') sql += part;
    else {
      slots.push(part);
      sql += '?';
    }
  }
  return { sql, slots };
}
