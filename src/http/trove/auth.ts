import type { FastifyInstance } from 'fastify';
import type { RequestContext } from '../../domain/common/context.js';
import { DomainError } from '../../domain/common/errors.js';
import type { AuthStrategy } from '../auth/auth-strategy.js';

/**
 * Authentication under /v1.0/{project_id} (section 4.2): the same strategies as /v3
 * (noauth `user:project`, Keystone), except that a noauth token without a colon (or
 * keystoneauth's `notused`) takes the URL's project; a URL project other than the
 * caller's is 403, as Trove's TenantBasedAuth answers.
 */
export function registerTroveAuth(app: FastifyInstance, strategy: AuthStrategy): void {
  if (!app.hasRequestDecorator('ctx')) app.decorateRequest('ctx', null as unknown as RequestContext);
  app.addHook('onRequest', async (req) => {
    const urlProject = (req.params as Record<string, string | undefined>)?.project_id;
    const raw = req.headers['x-auth-token'];
    const token = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    let headers = req.headers;
    if (strategy.name === 'noauth' && token && !token.includes(':') && urlProject) {
      headers = { ...req.headers, 'x-auth-token': `${token}:${urlProject}` };
    }
    req.ctx = await strategy.authenticate(headers, req.id);
    if (urlProject !== undefined && urlProject !== req.ctx.projectId) {
      throw new DomainError('forbidden', `User with tenant id ${req.ctx.projectId} cannot access this resource.`);
    }
  });
}
