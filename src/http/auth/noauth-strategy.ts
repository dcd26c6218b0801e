import type { RequestContext } from '../../domain/common/context.js';
import { DomainError } from '../../domain/common/errors.js';
import type { AuthStrategy } from './auth-strategy.js';

export interface NoauthOptions {
  /** Project ids whose callers are admins; '*' makes everyone an admin, as Cinder's noauth does. */
  adminProjects: string;
  /** A token value that is always an admin (e.g. for operators' scripts), whatever its project. */
  adminToken?: string;
  /** Roles of ordinary callers, comma-separated. */
  memberRoles: string;
}

/**
 * Cinder's noauth: `X-Auth-Token: user:project` (no colon: user = project = token).
 * Nothing is verified; this is for tests, CI and trusted networks.
 */
export function createNoauthStrategy(options: NoauthOptions): AuthStrategy {
  const admins = new Set(
    options.adminProjects
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const memberRoles = options.memberRoles
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return {
    name: 'noauth',
    async authenticate(headers, requestId): Promise<RequestContext> {
      const raw = headers['x-auth-token'];
      const token = (Array.isArray(raw) ? raw[0] : raw)?.trim();
      if (!token) throw new DomainError('unauthorized', 'The request you have made requires authentication.');
      const colon = token.indexOf(':');
      const userId = colon >= 0 ? token.slice(0, colon) : token;
      const projectId = colon >= 0 ? token.slice(colon + 1) : token;
      if (!userId || !projectId) throw new DomainError('unauthorized', 'Malformed noauth token: expected user:project.');
      const isAdmin = admins.has('*') || admins.has(projectId) || (!!options.adminToken && token === options.adminToken);
      const roles = isAdmin ? ['admin', 'member', 'reader'] : memberRoles;
      return { requestId, userId, projectId, roles, isAdmin };
    },
  };
}
