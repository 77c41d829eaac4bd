// Doubles as agtype prints them: PostgreSQL's float8 text form, with `.0` on whole numbers.
import { float8Text } from '../../../protocol/float-text.js';

/** agtype marks a float that prints as a whole number with `.0`, so it reads back as a float. */
export function agtypeFloatText(value: number): string {
  const text = float8Text(value);
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}
