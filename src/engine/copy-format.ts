// The format options of a COPY statement that decide where rows end and how the key field reads.
import type { Node } from '../router/sharding/ast-values.js';

export interface CopyFormat {
  binary: boolean;
  csv: boolean;
  delimiter: number;
  header: boolean;
  nullString: string;
  quote: number;
  /** CSV's escape character inside quotes (the quote itself by default). */
  escape: number;
  /** The key column is in FORCE_NULL (a quoted null string is NULL) or FORCE_NOT_NULL (never NULL). */
  forceNull: boolean;
  forceNotNull: boolean;
}

/** The column names of a FORCE_NULL / FORCE_NOT_NULL option, lower-cased. */
function columnList(arg: Node | undefined): string[] {
  const items = ((arg?.List as Node | undefined)?.items as Node[] | undefined) ?? [];
  return items.map((i) => String((i.String as Node | undefined)?.sval ?? '').toLowerCase());
}

/** The format options of a COPY statement, as far as row boundaries and the key field depend on them. */
export function copyFormatOf(copy: Node, keyColumn?: string): CopyFormat {
  const options = new Map<string, string>();
  const lists = new Map<string, string[]>();
  for (const o of (copy.options as Node[] | undefined) ?? []) {
    const d = o.DefElem as Node;
    const arg = d.arg as Node | undefined;
    if (arg?.List) lists.set(String(d.defname), columnList(arg));
    const value =
      (arg?.String as Node | undefined)?.sval ?? (arg?.Boolean as Node | undefined)?.boolval ?? 'true';
    options.set(String(d.defname), String(value));
  }
  const format = options.get('format')?.toLowerCase();
  const csv = format === 'csv';
  const delimiter = options.get('delimiter') ?? (csv ? ',' : '\t');
  const header = ['true', 'on', '1', 'match'].includes(options.get('header')?.toLowerCase() ?? 'false');
  const quote = (options.get('quote') ?? '"').charCodeAt(0);
  const key = keyColumn?.toLowerCase() ?? '';
  return {
    binary: format === 'binary',
    csv,
    delimiter: delimiter.charCodeAt(0),
    header,
    nullString: options.get('null') ?? (csv ? '' : '\\N'),
    quote,
    escape: options.has('escape') ? options.get('escape')!.charCodeAt(0) : quote,
    forceNull: lists.get('force_null')?.includes(key) ?? false,
    forceNotNull: lists.get('force_not_null')?.includes(key) ?? false,
  };
}
