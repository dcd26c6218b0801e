import type { z } from 'zod';
import { valueAt } from '../validation.js';

/**
 * zod issues rendered as Trove renders jsonschema errors (format_validation_msg):
 * "Validation error: backup['name'] '' is too short; backup['name'] ..." (section 1.2).
 */

type Issue = z.core.$ZodIssue;

/** Python's repr of a JSON value, as jsonschema prints it ('x', True, None, 2, [...], {...}). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  return String(value);
}

/** backup['name'], instance['users'][0]['name'] (empty for the root). */
function pathText(path: readonly PropertyKey[]): string {
  if (!path.length) return '';
  return (
    String(path[0]) +
    path
      .slice(1)
      .map((k) => (typeof k === 'number' ? `[${k}]` : `['${String(k)}']`))
      .join('')
  );
}

const JSON_TYPES: Record<string, string> = {
  number: 'number',
  int: 'integer',
  string: 'string',
  boolean: 'boolean',
  object: 'object',
  array: 'array',
};

function one(issue: Issue, root: unknown): string {
  const value = valueAt(root, issue.path);
  const parentPath = issue.path.slice(0, -1);
  const parent = valueAt(root, parentPath);
  const missing =
    issue.code === 'invalid_type' && value === undefined && issue.path.length > 0 && parent !== null && typeof parent === 'object';
  if (missing) return `${pathText(parentPath)} '${String(issue.path.at(-1))}' is a required property`.trim();
  const where = pathText(issue.path);
  let what: string;
  switch (issue.code) {
    case 'invalid_type':
      what = `${pyRepr(value)} is not of type '${JSON_TYPES[issue.expected] ?? issue.expected}'`;
      break;
    case 'too_small':
      what =
        issue.origin === 'number' || issue.origin === 'int'
          ? `${pyRepr(value)} is less than the minimum of ${String(issue.minimum)}`
          : `${pyRepr(value)} is too short`;
      break;
    case 'too_big':
      what =
        issue.origin === 'number' || issue.origin === 'int'
          ? `${pyRepr(value)} is greater than the maximum of ${String(issue.maximum)}`
          : `${pyRepr(value)} is too long`;
      break;
    case 'invalid_format':
      what =
        issue.format === 'regex' && 'pattern' in issue
          ? `${pyRepr(value)} does not match '${String(issue.pattern).replace(/^\/(.*)\/[a-z]*$/, '$1')}'`
          : `${pyRepr(value)} is not a '${issue.format}'`;
      break;
    case 'unrecognized_keys':
      what = `Additional properties are not allowed (${issue.keys.map((k) => `'${k}'`).join(', ')} ${issue.keys.length > 1 ? 'were' : 'was'} unexpected)`;
      break;
    case 'invalid_union':
      what = `${pyRepr(value)} is not valid under any of the given schemas`;
      break;
    default:
      what = `${pyRepr(value)} ${issue.message}`;
  }
  return `${where} ${what}`.trim();
}

/** "Validation error: <one>; <two>" for every issue. */
export function troveValidationMessage(issues: readonly Issue[], root: unknown): string {
  if (!issues.length) return 'Validation error: invalid input';
  return `Validation error: ${issues.map((i) => one(i, root)).join('; ')}`;
}
