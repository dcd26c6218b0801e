import { z } from 'zod';
import { invalid } from './errors.js';

/** The strings Cinder accepts as booleans (oslo strutils / parameter_types.boolean). */
const TRUE = ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't'];
const FALSE = ['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'];

/** zod: a JSON boolean or one of Cinder's boolean strings, as a boolean. */
export const cinderBool = z
  .union([z.boolean(), z.enum([...TRUE, ...FALSE] as [string, ...string[]])])
  .transform((v) => (typeof v === 'boolean' ? v : TRUE.includes(v)));

/** A query-string boolean; throws 400 "Value 'x' for '<field>' is not a boolean." */
export function parseCinderBool(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  const text = Array.isArray(value) ? value.at(-1) : value;
  if (typeof text === 'string') {
    if (TRUE.includes(text) || TRUE.includes(text.toLowerCase())) return true;
    if (FALSE.includes(text) || FALSE.includes(text.toLowerCase())) return false;
  }
  throw invalid('input received', `Value '${String(text)}' for '${field}' is not a boolean.`);
}
