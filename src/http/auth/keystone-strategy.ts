import type { Config } from '../../config.js';
import type { RequestContext } from '../../domain/common/context.js';
import { DomainError } from '../../domain/common/errors.js';
import type { AuthStrategy } from './auth-strategy.js';
import { issueServiceToken, validateToken, type KeystoneServiceCredentials } from './keystone-client.js';
import { TokenCache, type TokenIdentity } from './keystone-token-cache.js';

export interface KeystoneOptions extends KeystoneServiceCredentials {
  /** KEYSTONE_CACHE_SECONDS: how long a validated token is trusted; 0 asks Keystone on every request. */
  cacheSeconds: number;
  /** Cached tokens kept at most (LRU). */
  maxCachedTokens: number;
  /** Renew the service token this long before Keystone says it expires. */
  renewBeforeMs: number;
  now?: () => number;
}

const UNAUTHORIZED = 'The request you have made requires authentication.';

/** Maps the KEYSTONE_* variables onto KeystoneOptions (config.ts guarantees KEYSTONE_URL under AUTH_STRATEGY=keystone). */
export function keystoneOptionsFromConfig(config: Config): KeystoneOptions {
  const missing = (['KEYSTONE_URL', 'KEYSTONE_USERNAME', 'KEYSTONE_PASSWORD', 'KEYSTONE_PROJECT'] as const).filter((k) => !config[k]);
  if (missing.length > 0) throw new Error(`AUTH_STRATEGY=keystone needs ${missing.join(', ')}`);
  return {
    url: config.KEYSTONE_URL!,
    username: config.KEYSTONE_USERNAME!,
    password: config.KEYSTONE_PASSWORD!,
    projectName: config.KEYSTONE_PROJECT!,
    userDomainName: config.KEYSTONE_USER_DOMAIN,
    projectDomainName: config.KEYSTONE_PROJECT_DOMAIN,
    cacheSeconds: config.KEYSTONE_CACHE_SECONDS,
    maxCachedTokens: 10_000,
    renewBeforeMs: 120_000,
    timeoutMs: 5_000,
  };
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const raw = headers[name];
  return (Array.isArray(raw) ? raw[0] : raw)?.trim() || undefined;
}

/**
 * Keystone v3 token validation, as keystonemiddleware does it for Cinder: the caller's
 * X-Auth-Token is checked with the service's own token, the answer cached (bounded,
 * LRU, at most until the token expires), and project, user and roles become the
 * RequestContext (isAdmin = role admin, Cinder's context_is_admin).
 * Invalid, expired or revoked tokens -> DomainError('unauthorized');
 * Keystone unreachable or refusing the service -> DomainError('unavailable').
 */
export function createKeystoneStrategy(options: KeystoneOptions): AuthStrategy {
  const now = options.now ?? Date.now;
  const cache = new TokenCache({ ttlSeconds: options.cacheSeconds, maxEntries: options.maxCachedTokens, now });
  let serviceToken: { id: string; expiresAt: number } | undefined;
  // One renewal in flight at a time, shared by every request that needs it.
  let renewing: Promise<string> | undefined;

  function currentServiceToken(forceRenew: boolean): Promise<string> {
    if (!forceRenew && serviceToken && serviceToken.expiresAt - options.renewBeforeMs > now()) {
      return Promise.resolve(serviceToken.id);
    }
    renewing ??= issueServiceToken(options)
      .then((t) => {
        serviceToken = t;
        return t.id;
      })
      .finally(() => {
        renewing = undefined;
      });
    return renewing;
  }

  async function lookup(token: string): Promise<TokenIdentity> {
    const cached = cache.get(token);
    if (cached) return cached;
    let result = await validateToken(options, await currentServiceToken(false), token);
    if (result.kind === 'service_token_rejected') {
      // Our token expired early or was revoked: renew once, then give up as unavailable.
      result = await validateToken(options, await currentServiceToken(true), token);
    }
    if (result.kind === 'service_token_rejected') {
      throw new DomainError('unavailable', "Keystone does not accept this service's credentials.");
    }
    if (result.kind === 'invalid' || result.token.expiresAt <= now()) {
      throw new DomainError('unauthorized', UNAUTHORIZED);
    }
    const { userId, projectId, roles, expiresAt } = result.token;
    // Cinder needs a project: domain- and system-scoped tokens carry none.
    if (!projectId) throw new DomainError('unauthorized', UNAUTHORIZED);
    const identity: TokenIdentity = { userId, projectId, roles };
    cache.set(token, identity, expiresAt);
    return identity;
  }

  return {
    name: 'keystone',
    async authenticate(headers, requestId): Promise<RequestContext> {
      const token = headerValue(headers, 'x-auth-token');
      if (!token) throw new DomainError('unauthorized', UNAUTHORIZED);
      const identity = await lookup(token);
      return { requestId, ...identity, roles: [...identity.roles], isAdmin: identity.roles.includes('admin') };
    },
    async close() {
      cache.clear();
    },
  };
}
