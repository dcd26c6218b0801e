import type { FastifyInstance } from 'fastify';
import type { RequestContext } from '../../domain/common/context.js';
import { HttpFault } from '../faults.js';
import type { AuthStrategy } from './auth-strategy.js';

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
}

// Cinder's default project_id_regex: a non-hex project id in the URL does not route.
const PROJECT_ID_RE = /^[0-9a-f-]+$/;

/**
 * Authenticates every request of the instance it is registered on (the /v3 API),
 * and checks a project id in the URL against the caller's (Cinder: 400 on mismatch).
 */
export function registerAuth(app: FastifyInstance, strategy: AuthStrategy): void {
  app.decorateRequest('ctx', null as unknown as RequestContext);
  app.addHook('onRequest', async (req, reply) => {
    if (strategy.name === 'noauth' && !req.headers['x-auth-token']) {
      // Cinder's noauth "v1.1 handshake": no token -> 204 telling the client which token to use.
      const user = String(req.headers['x-auth-user'] ?? 'admin');
      const project = String(req.headers['x-auth-project-id'] ?? 'admin');
      const url = `${req.protocol}://${req.host}${req.url}`.replace(/\/$/, '');
      return reply.code(204).header('X-Auth-Token', `${user}:${project}`).header('X-Server-Management-Url', url).type('text/plain').send();
    }
    req.ctx = await strategy.authenticate(req.headers, req.id);
    const urlProject = (req.params as Record<string, string | undefined>)?.project_id;
    if (urlProject !== undefined) {
      if (!PROJECT_ID_RE.test(urlProject)) throw new HttpFault(404, 'itemNotFound', 'The resource could not be found.');
      if (urlProject !== req.ctx.projectId) throw new HttpFault(400, 'badRequest', 'Malformed request url');
    }
  });
}
