import type { FastifyInstance } from 'fastify';
import { findInputProblem, inputProblemMessage } from '../domain/common/input-shape.js';
import { HttpFault } from './faults.js';

/** A 400 for a decoded body, query or path that Postgres or a recursive walk cannot take; else null. */
export function inputFault(value: unknown, root: string): HttpFault | null {
  const problem = findInputProblem(value, root);
  return problem ? new HttpFault(400, 'badRequest', inputProblemMessage(problem)) : null;
}

/**
 * Refuses a NUL character in any path parameter or query string value or key with a 400
 * before a route sees it (bodies are checked as they are parsed, see body-parsers.ts).
 * Register once per listener, at its root.
 */
export function registerInputGuards(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    const fault = inputFault(req.params, 'path') ?? inputFault(req.query, 'query');
    if (fault) throw fault;
  });
}
