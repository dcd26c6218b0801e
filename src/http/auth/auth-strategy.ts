import type { RequestContext } from '../../domain/common/context.js';

/**
 * How a request's identity is established. `noauth` parses `X-Auth-Token: user:project`;
 * `keystone` validates the token against Keystone v3. The auth plugin calls
 * `authenticate` once per request under /v3 and renders a thrown DomainError
 * ('unauthorized' -> 401) as a Cinder fault body.
 */
export interface AuthStrategy {
  readonly name: 'noauth' | 'keystone';
  /**
   * Resolves the caller, or throws DomainError('unauthorized', ...) for a missing,
   * invalid, expired or revoked token.
   */
  authenticate(headers: Record<string, string | string[] | undefined>, requestId: string): Promise<RequestContext>;
  close?(): Promise<void>;
}
