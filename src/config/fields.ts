// Field types shared by the config schema: host:port addresses and durations normalized to milliseconds.
import { z } from 'zod';
import { durationExpected, durationPattern, parseDuration } from './duration.js';
import { parseHostPort } from './host-port.js';

export const hostPort = z
  .string()
  .superRefine((value, ctx) => {
    try {
      parseHostPort(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  })
  .meta({
    description: 'host:port — an IPv4 address, a bracketed IPv6 address or a hostname; port 1..65535',
  });

/** A duration field with its default written the way a user would write it. */
export function duration(defaultValue: string | number) {
  return z
    .union([z.number().nonnegative(), z.string().regex(durationPattern, { error: durationExpected })], {
      error: durationExpected,
    })
    .transform((value) => parseDuration(value))
    .prefault(defaultValue)
    .meta({ description: 'milliseconds, or a number with a unit: ms, s, m, h, d (e.g. 250ms, 5s, 1h30m)' });
}
