import type { FastifyInstance } from 'fastify';
import { HttpFault } from './faults.js';

/**
 * The parser for every content type without one of its own (Cinder, reference §2.2): a body
 * sent WITHOUT a Content-Type is ignored (the request goes on as if it had no body), any
 * other unknown type is 415 badMediaType. The body is still read under the body limit (413).
 */
export function registerCatchAllParser(app: FastifyInstance): void {
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, _body, done) => {
    if (req.headers['content-type'] === undefined) done(null, undefined);
    else done(new HttpFault(415, 'badMediaType', 'Unsupported Content-Type'), undefined);
  });
}
