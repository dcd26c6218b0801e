import type { FastifyInstance, FastifyRequest } from 'fastify';

// Scraped and probed every few seconds: at info they would drown the log.
const PROBES = new Set(['/healthz', '/metrics']);

// The path's project, never the caller's: under noauth a token without a colon is its own project id.
function projectOf(req: FastifyRequest): string | undefined {
  return (req.params as { project_id?: string } | undefined)?.project_id;
}

/**
 * One log line per request, once answered: method, path, status, duration, project and
 * (from the request logger) request_id. Fastify's own two lines are off (disableRequestLogging).
 */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (req, reply) => {
    const path = req.url.split('?', 1)[0]!;
    const fields = {
      method: req.method,
      path,
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 10) / 10,
      // NOTE: no user id: under noauth it is part of the token, which logs must never carry.
      project_id: projectOf(req),
    };
    if (PROBES.has(path) && reply.statusCode < 500) req.log.debug(fields, 'request');
    else req.log.info(fields, 'request');
  });
}
