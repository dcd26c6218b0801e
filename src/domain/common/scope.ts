import type { Scope } from '../../db/scope.js';
import type { RequestContext } from './context.js';

/** Single-resource reads: admins see every project's rows (Cinder's admin context), others their own. */
export function readScope(ctx: RequestContext): Scope {
  return { projectId: ctx.isAdmin ? null : ctx.projectId };
}

/** Lists: the caller's project; every project only for an admin asking for all_tenants. */
export function listScope(ctx: RequestContext, allTenants = false): Scope {
  return { projectId: ctx.isAdmin && allTenants ? null : ctx.projectId };
}
