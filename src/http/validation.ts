import type { z } from 'zod';
import { HttpFault } from './faults.js';

/**
 * Turns zod issues into Cinder's validation message:
 * "Invalid input for field/attribute <field>. Value: <value>. <reason>".
 */

type Issue = z.core.$ZodIssue;

/** The value at `path` inside `root` (undefined when absent). */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
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
  // Never throws: a value nested too deeply for JSON.stringify (or String) is shown by its type.
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 100 ? `${text.slice(0, 100)}...` : text;
  } catch {
    return Array.isArray(value) ? '[...]' : '{...}';
  }
}

// zod 4 leaves `input` out of issues unless asked: a missing key is read from the validated root.
function isMissing(issue: Issue, root: unknown): boolean {
  if (issue.code !== 'invalid_type' || issue.path.length === 0) return false;
  const parent = valueAt(root, issue.path.slice(0, -1));
  return parent !== null && typeof parent === 'object' && !Array.isArray(parent) && valueAt(parent, issue.path.slice(-1)) === undefined;
}

function reason(issue: Issue, root: unknown, missing: boolean): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    return `Additional properties are not allowed (${keys} ${issue.keys.length > 1 ? 'were' : 'was'} unexpected)`;
  }
  if (missing) return `'${String(issue.path.at(-1))}' is a required property`;
  // jsonschema's wording, as Cinder shows it: "1 is not of type 'string'".
  if (issue.code === 'invalid_type') return `${show(valueAt(root, issue.path))} is not of type '${issue.expected}'`;
  return issue.message;
}

/** The Cinder message for the first issue; `root` is the validated input (for the Value part). */
export function cinderValidationMessage(issues: readonly Issue[], root: unknown): string {
  const issue = issues[0];
  if (!issue) return 'Invalid input received.';
  const missing = isMissing(issue, root);
  // Cinder names the object that lacks (or has an extra) key, and shows that object.
  const fieldPath = issue.code === 'unrecognized_keys' ? issue.path : missing ? issue.path.slice(0, -1) : issue.path;
  const field = fieldPath.length ? String(fieldPath.at(-1)) : 'body';
  return `Invalid input for field/attribute ${field}. Value: ${show(valueAt(root, fieldPath))}. ${reason(issue, root, missing)}`;
}

/** Parses with a zod schema, throwing a 400 Cinder fault on failure. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new HttpFault(400, 'badRequest', cinderValidationMessage(result.error.issues, input));
  return result.data;
}
