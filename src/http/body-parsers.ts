import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpFault, UNSUPPORTED_MEDIA_TYPE } from './faults.js';
import { inputFault } from './input-guards.js';

/** The JSON media types every listener accepts (parameters such as charset are ignored). */
const JSON_TYPES = ['application/json', 'application/vnd.openstack.volume+json'] as const;

type Done = (err: Error | null, body?: unknown) => void;

export interface BodyParserOptions {
  /**
   * What a request with an empty body (zero bytes, whatever its Content-Type or method,
   * Content-Length: 0 or chunked) hands to the route. Cinder's routes see no body
   * (undefined), as webob does; Trove's see `{}` so a route that needs a body names the
   * missing key.
   */
  empty?: unknown;
}

/**
 * The request body parsers of a listener (Cinder's /v3 and Trove's /v1.0 on the main one,
 * CBR on its own): register once per Fastify instance or encapsulated scope; a later call
 * in a child scope replaces the parent's for that scope.
 *
 * - An empty body is no body, for every method and content type. The clients built on
 *   keystoneauth send `Content-Type: application/json` on every request, a bodiless DELETE
 *   included, and Fastify's own JSON parser refuses an empty body.
 * - JSON types are parsed with prototype poisoning refused (400 "Malformed request body"); a
 *   NUL character anywhere or nesting deeper than MAX_JSON_DEPTH is a 400 (input-guards.ts).
 * - A body sent without a Content-Type is ignored (the request goes on without a body);
 *   another unknown type with a body is 415 badMediaType. Bodies stay under the body limit (413).
 */
export function registerBodyParsers(app: FastifyInstance, opts: BodyParserOptions = {}): void {
  const empty = opts.empty;
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const replace = (type: string, parse: (req: FastifyRequest, body: string, done: Done) => void) => {
    if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type);
    app.addContentTypeParser(type, { parseAs: 'string' }, (req, body, done) => parse(req, String(body), done));
  };
  const json = (req: FastifyRequest, body: string, done: Done) => {
    if (body.length === 0) return done(null, empty);
    parseJson(req, body, (err, parsed) => {
      if (err) return done(err);
      const fault = inputFault(parsed, 'body');
      return fault ? done(fault) : done(null, parsed);
    });
  };
  for (const type of JSON_TYPES) replace(type, json);
  // Cinder reads text/plain as "no content type"; an empty one is no body like any other.
  replace('text/plain', (_req, body, done) => done(null, body.length === 0 ? empty : body));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    if (req.headers['content-type'] === undefined) done(null, undefined);
    else if (body.length === 0) done(null, empty);
    else done(new HttpFault(415, 'badMediaType', UNSUPPORTED_MEDIA_TYPE), undefined);
  });
}
