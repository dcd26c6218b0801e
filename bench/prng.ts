import { createCipheriv, createHash, type Cipher } from 'node:crypto';

/**
 * Seeded, deterministic randomness for the benchmark data: a xorshift128 generator for
 * decisions (run types, lengths, positions) and an AES-128-CTR key stream for bulk
 * incompressible bytes (AES-NI makes it several GB/s, far faster than any JS PRNG).
 */
export class Xorshift128 {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: number) {
    // splitmix32 spreads a small seed over the four words (an all-zero state would be stuck).
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b) >>> 0;
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35) >>> 0;
      return (t ^ (t >>> 16)) >>> 0;
    };
    this.x = next();
    this.y = next();
    this.z = next();
    this.w = next() | 1;
  }

  /** Next unsigned 32-bit integer. */
  u32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
}

/** A deterministic stream of pseudo-random bytes: AES-128-CTR over zeros, key derived from the seed. */
export class KeyStream {
  private readonly cipher: Cipher;
  private zeros = Buffer.alloc(0);

  constructor(seed: number, label: string) {
    const digest = createHash('sha256').update(`${label}:${seed}`).digest();
    this.cipher = createCipheriv('aes-128-ctr', digest.subarray(0, 16), digest.subarray(16, 32));
  }

  /** The next `n` bytes of the stream (a new Buffer). */
  bytes(n: number): Buffer {
    if (this.zeros.length < n) this.zeros = Buffer.alloc(n);
    return this.cipher.update(this.zeros.subarray(0, n));
  }
}
