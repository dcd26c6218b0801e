import { describe, expect, it } from 'vitest';
import { PageCache } from '../../src/domain/common/page-cache.js';

const body = (n: number, fill = 'x') => Buffer.from(fill.repeat(n));

describe('PageCache', () => {
  it('answers a page only at the version it was rendered at', () => {
    const c = new PageCache(10_000);
    c.set('k', '7', body(10));
    expect(c.get('k', '7')?.toString()).toBe('x'.repeat(10));
    expect(c.get('k', '8')).toBeUndefined();
    expect(c.get('other', '7')).toBeUndefined();
    expect([c.hits, c.misses]).toEqual([1, 2]);
  });

  it('replaces a key in place and keeps its byte count exact', () => {
    const c = new PageCache(10_000);
    c.set('k', '1', body(100));
    const one = c.size;
    c.set('k', '2', body(100, 'y'));
    expect(c.size).toBe(one);
    expect(c.get('k', '1')).toBeUndefined();
    expect(c.get('k', '2')?.toString()).toBe('y'.repeat(100));
  });

  it('never holds more than its capacity and evicts the least recently used', () => {
    const c = new PageCache(2_000);
    for (let i = 0; i < 50; i++) {
      c.set(`k${i}`, '1', body(300));
      expect(c.size).toBeLessThanOrEqual(2_000);
      // k0 is read after every insert: it stays while older unread pages go.
      expect(c.get('k0', '1')).toBeDefined();
    }
    expect(c.get('k1', '1')).toBeUndefined();
    expect(c.get('k49', '1')).toBeDefined();
  });

  it('keeps no page larger than its capacity, and nothing at capacity 0', () => {
    const c = new PageCache(1_000);
    c.set('big', '1', body(2_000));
    expect(c.get('big', '1')).toBeUndefined();
    expect(c.size).toBe(0);
    const off = new PageCache(0);
    expect(off.enabled).toBe(false);
    off.set('k', '1', body(1));
    expect(off.get('k', '1')).toBeUndefined();
  });
});
