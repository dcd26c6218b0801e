/**
 * Who is calling, as every auth strategy reports it (noauth tokens, Keystone).
 * Domain rules take this, never a Fastify request.
 */
export interface RequestContext {
  requestId: string;
  userId: string;
  projectId: string;
  /** Role names, lower-case; Keystone expands implied roles (admin => member => reader). */
  roles: readonly string[];
  /** Cinder's context_is_admin (role:admin): all_tenants, admin actions, admin-only fields. */
  isAdmin: boolean;
}
