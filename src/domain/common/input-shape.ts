/**
 * Checks on decoded JSON before any of it reaches Postgres or a recursive printer:
 * Postgres text and jsonb cannot hold a NUL character, and a deeply nested document
 * overflows the stack of any recursive walk (JSON.parse itself copes).
 */

/** Deepest nesting of objects and arrays a request body or an imported record may have. */
export const MAX_JSON_DEPTH = 64;

export type InputProblem = { kind: 'nul'; field: string } | { kind: 'depth' };

/**
 * The first NUL character (in a key or a string value, reported with the nearest key) or
 * nesting deeper than MAX_JSON_DEPTH in `value`; null when there is none. Iterative, so
 * it cannot overflow the stack itself.
 */
export function findInputProblem(value: unknown, root = 'body'): InputProblem | null {
  const stack: Array<{ v: unknown; depth: number; field: string }> = [{ v: value, depth: 0, field: root }];
  while (stack.length > 0) {
    const { v, depth, field } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) return { kind: 'nul', field };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { kind: 'depth' };
    const isArray = Array.isArray(v);
    for (const [key, child] of Object.entries(v)) {
      if (key.includes('\0')) return { kind: 'nul', field };
      stack.push({ v: child, depth: depth + 1, field: isArray ? field : key });
    }
  }
  return null;
}

/** The 400 message for a problem (Cinder's "Invalid input received: ..." family). */
export function inputProblemMessage(problem: InputProblem): string {
  return problem.kind === 'nul'
    ? `Invalid input received: ${problem.field.replaceAll('\0', '\\x00')} must not contain a NUL character.`
    : `Invalid input received: JSON nested more than ${MAX_JSON_DEPTH} levels deep.`;
}
