// Durations in config: a number of milliseconds, or text such as "250ms", "5s", "2m", "1h" or "1h30m".

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Accepted duration text; shared with the schema so the JSON Schema shows the same pattern. */
export const durationPattern = /^(?:\d+|(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+)$/;

/** The one wording for a bad duration, used by the parser and the schema alike. */
export const durationExpected = 'expected a duration such as 250ms, 5s, 2m, 1h or a number of milliseconds';

/** Normalizes a duration to whole milliseconds so the rest of the proxy never deals with units. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`${durationExpected}, got ${value}`);
    return Math.round(value);
  }
  const text = value.trim();
  if (!durationPattern.test(text)) throw new Error(`${durationExpected}, got ${JSON.stringify(value)}`);
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(amount) * unitMs[unit as keyof typeof unitMs];
  }
  return Math.round(total);
}
