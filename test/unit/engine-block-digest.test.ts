import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blockDigest, isZero } from '../../src/engine/block-digest.js';

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

describe('blockDigest', () => {
  it('gives the sha256 of every block, zero or not, and says which were all zeros', () => {
    for (const size of [1, 4096, 32 * 1024, 32 * 1024 - 7]) {
      const zeros = Buffer.alloc(size);
      expect(blockDigest(zeros)).toEqual({ digest: sha256(zeros), zero: true });
      // randomBytes(1) is a zero byte one time in 256, which is the zero case, not this one.
      const data = randomBytes(size);
      data[0] = (data[0] ?? 0) | 0x80;
      expect(blockDigest(data)).toEqual({ digest: sha256(data), zero: false });
      const lastByte = Buffer.alloc(size);
      lastByte[size - 1] = 1;
      expect(blockDigest(lastByte)).toEqual({ digest: sha256(lastByte), zero: false });
    }
  });

  it('compares against zeros of any length, a longer block after a shorter one included', () => {
    expect(isZero(Buffer.alloc(16))).toBe(true);
    expect(isZero(Buffer.alloc(64 * 1024))).toBe(true);
    const b = Buffer.alloc(64 * 1024);
    b[40_000] = 9;
    expect(isZero(b)).toBe(false);
    expect(isZero(Buffer.alloc(0))).toBe(true);
  });
});
