import { createHash } from 'node:crypto';

/**
 * The sha256 of one block as the data path computes it: an all-zero block (a memcmp, far cheaper
 * than hashing) gets the cached digest of zeros. Shared by the chunk worker and the benchmark's
 * machine limit, so the bound is measured on the same work the engine does.
 */

let zeroBlock = Buffer.alloc(0);
/** Whether every byte of `b` is zero. */
export function isZero(b: Buffer): boolean {
  if (zeroBlock.length < b.length) zeroBlock = Buffer.alloc(b.length);
  return b.equals(zeroBlock.subarray(0, b.length));
}

const zeroHashes = new Map<number, Buffer>();
/** sha256 of `length` zero bytes, cached. */
function zeroHash(length: number): Buffer {
  let h = zeroHashes.get(length);
  if (!h) zeroHashes.set(length, (h = createHash('sha256').update(Buffer.alloc(length)).digest()));
  return h;
}

/** sha256 of `block` (the cached zero digest when it is all zeros), and whether it was. */
export function blockDigest(block: Buffer): { digest: Buffer; zero: boolean } {
  const zero = isZero(block);
  return { digest: zero ? zeroHash(block.length) : createHash('sha256').update(block).digest(), zero };
}
