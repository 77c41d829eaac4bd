// PostgreSQL WAL positions ("16/B374D848") as comparable numbers.

/** An LSN as a bigint: the high and low 32-bit halves of the text form. */
export function parseLsn(text: string | null | undefined): bigint | null {
  if (!text) return null;
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  return (BigInt('0x' + text.slice(0, slash)) << 32n) | BigInt('0x' + text.slice(slash + 1));
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
