import { createHash } from 'node:crypto';

/** What a validated Keystone token tells us about its holder (the request id is added per request). */
export interface TokenIdentity {
  userId: string;
  projectId: string;
  /** Lower-case role names, as Keystone expanded them (admin => member => reader). */
  roles: readonly string[];
}

export interface TokenCacheOptions {
  /** Upper bound on how long a validated token is trusted without asking Keystone again; 0 disables the cache. */
  ttlSeconds: number;
  /** Entries kept at most; the least recently used entry is evicted first. */
  maxEntries: number;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now?: () => number;
}

interface Entry {
  identity: TokenIdentity;
  expiresAt: number;
}

/**
 * A bounded LRU cache of validated tokens.
 * An entry lives min(ttlSeconds, the token's own expiry): a revoked token is
 * therefore accepted for at most ttlSeconds, the same trade-off as
 * keystonemiddleware's token_cache_time. Tokens are stored as sha256 digests,
 * so a heap dump does not leak usable credentials.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: TokenCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached identity, or undefined when absent or expired (expired entries are dropped). */
  get(token: string): TokenIdentity | undefined {
    const key = digest(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    // Re-insert: Map iteration order is insertion order, so this marks it most recently used.
    this.entries.set(key, entry);
    return entry.identity;
  }

  /** Remembers a token until min(now + ttl, tokenExpiresAt); a token already expired is not stored. */
  set(token: string, identity: TokenIdentity, tokenExpiresAt: number): void {
    const expiresAt = Math.min(this.now() + this.options.ttlSeconds * 1000, tokenExpiresAt);
    if (this.options.ttlSeconds <= 0 || this.options.maxEntries <= 0 || expiresAt <= this.now()) return;
    const key = digest(token);
    this.entries.delete(key);
    this.entries.set(key, { identity, expiresAt });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}
