import { describe, expect, it } from 'vitest';
import { TokenCache, type TokenIdentity } from './keystone-token-cache.js';

const alice: TokenIdentity = { userId: 'u1', projectId: 'p1', roles: ['member', 'reader'] };

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenCache', () => {
  it('returns a stored identity until the cache lifetime runs out', () => {
    const c = clock();
    const cache = new TokenCache({ ttlSeconds: 60, maxEntries: 10, now: c.now });
    cache.set('tok', alice, c.now() + 3_600_000);
    c.advance(59_999);
    expect(cache.get('tok')).toEqual(alice);
    c.advance(1);
    expect(cache.get('tok')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never keeps a token past its own Keystone expiry, even with a longer cache lifetime', () => {
    const c = clock();
    const cache = new TokenCache({ ttlSeconds: 300, maxEntries: 10, now: c.now });
    cache.set('tok', alice, c.now() + 10_000);
    c.advance(9_999);
    expect(cache.get('tok')).toEqual(alice);
    c.advance(1);
    expect(cache.get('tok')).toBeUndefined();
  });

  it('does not store a token that has already expired', () => {
    const c = clock();
    const cache = new TokenCache({ ttlSeconds: 300, maxEntries: 10, now: c.now });
    cache.set('tok', alice, c.now());
    expect(cache.size).toBe(0);
  });

  it('stores nothing when the cache lifetime is zero', () => {
    const c = clock();
    const cache = new TokenCache({ ttlSeconds: 0, maxEntries: 10, now: c.now });
    cache.set('tok', alice, c.now() + 3_600_000);
    expect(cache.get('tok')).toBeUndefined();
  });

  it('evicts the least recently used token when full', () => {
    const c = clock();
    const cache = new TokenCache({ ttlSeconds: 300, maxEntries: 2, now: c.now });
    const far = c.now() + 3_600_000;
    cache.set('a', { ...alice, userId: 'a' }, far);
    cache.set('b', { ...alice, userId: 'b' }, far);
    expect(cache.get('a')?.userId).toBe('a'); // 'a' is now the most recently used
    cache.set('c', { ...alice, userId: 'c' }, far);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.userId).toBe('a');
    expect(cache.get('c')?.userId).toBe('c');
  });

  it('keeps distinct tokens apart and replaces an entry on re-validation', () => {
    const c = clock();
    const cache = new TokenCache({ ttlSeconds: 300, maxEntries: 10, now: c.now });
    cache.set('x', alice, c.now() + 1000);
    cache.set('y', { ...alice, projectId: 'p2' }, c.now() + 1000);
    cache.set('x', { ...alice, roles: ['reader'] }, c.now() + 100_000);
    expect(cache.size).toBe(2);
    c.advance(5000);
    expect(cache.get('x')?.roles).toEqual(['reader']);
    expect(cache.get('y')).toBeUndefined();
  });
});
