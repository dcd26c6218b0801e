import type { z } from 'zod';
import { HttpFault } from './faults.js';

/**
 * Turns zod issues into Cinder's validation message:
 * "Invalid input for field/attribute <field>. Value: <value>. <reason>".
 */

type Issue = z.core.$ZodIssue;

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function show(value: unknown): string {
  if (value === undefined) return 'None';
  if (value === null) return 'None';
  if (typeof value === 'string') return value.length > 100 ? `${value.slice(0, 100)}...` : value;
  try {
    const text = JSON.stringify(value);
    return text.length > 100 ? `${text.slice(0, 100)}...` : text;
  } catch {
    return String(value);
  }
}

function reason(issue: Issue): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    return `Additional properties are not allowed (${keys} ${issue.keys.length > 1 ? 'were' : 'was'} unexpected)`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `'${String(issue.path.at(-1))}' is a required property`;
  return issue.message;
}

/** The Cinder message for the first issue; `root` is the validated input (for the Value part). */
export function cinderValidationMessage(issues: readonly Issue[], root: unknown): string {
  const issue = issues[0];
  if (!issue) return 'Invalid input received.';
  const path = issue.path;
  if (issue.code === 'unrecognized_keys' || (issue.code === 'invalid_type' && issue.input === undefined && path.length > 0)) {
    const parentPath = issue.code === 'unrecognized_keys' ? path : path.slice(0, -1);
    const field = parentPath.length ? String(parentPath.at(-1)) : 'body';
    return `Invalid input for field/attribute ${field}. Value: ${show(valueAt(root, parentPath))}. ${reason(issue)}`;
  }
  const field = path.length ? String(path.at(-1)) : 'body';
  return `Invalid input for field/attribute ${field}. Value: ${show(valueAt(root, path))}. ${reason(issue)}`;
}

/** Parses with a zod schema, throwing a 400 Cinder fault on failure. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new HttpFault(400, 'badRequest', cinderValidationMessage(result.error.issues, input));
  return result.data;
}
