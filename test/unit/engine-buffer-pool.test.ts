import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/engine/concurrency.js';

describe('BufferPool', () => {
  it('a buffer pool trimmed of its free buffers allocates anew and still caps buffers in use', async () => {
    const pool = new BufferPool(2, 16);
    const [a, b] = [await pool.acquire(), await pool.acquire()];
    pool.release(a);
    pool.trim();
    const c = await pool.acquire();
    expect(c).not.toBe(a);
    let third = false;
    const waiting = pool.acquire().then(() => (third = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBe(false);
    pool.release(b);
    await waiting;
    expect(third).toBe(true);
  });

  it('run lends one buffer and takes it back once the work settles, also when it throws', async () => {
    const pool = new BufferPool(1, 16);
    const lent = await pool.run(async (b) => b);
    await expect(
      pool.run(async (b) => {
        expect(b).toBe(lent); // the same buffer again: the first run gave it back
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await pool.run(async (b) => b)).toBe(lent); // given back after the throw too, so no wait
  });
});
