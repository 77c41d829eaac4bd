// Reads float4/float8 text as PostgreSQL prints it (NaN and the infinities spelled out); protocol/float-text.ts writes it.
export function parseFloatText(text: string): number {
  if (text === 'NaN') return NaN;
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  return Number(text);
}
