import type { FastifyInstance } from 'fastify';

/**
 * Under /v1.0 a request with `Content-Type: application/json` and an empty body is
 * accepted as an empty object (the clients send the header on bodiless requests; a
 * route that needs a body then names the missing key);
 * anything else goes to Fastify's JSON parser (prototype poisoning refused).
 */
export function acceptEmptyJson(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (typeof body === 'string' && body.trim() === '') return done(null, {});
    return parse(req, String(body), done);
  });
}
