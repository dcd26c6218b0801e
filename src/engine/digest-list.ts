/**
 * sha256 digests of a volume's blocks as raw bytes, 32 per block. As hex strings they cost ~90
 * bytes of heap each: 23 MiB for an 8 GiB volume's 262,144 blocks, plus the copies made to render
 * `_sha256file` at the end, and the process's peak grew with the volume. Raw, it is 8 MiB.
 */

export const DIGEST_BYTES = 32;

/**
 * Cinder's hex hashes as digests, and per entry 1 when it was well-formed. Cinder compares the
 * strings, so only the lowercase hex it writes can ever equal a new hash; others never match.
 */
export function digestsFromHex(hex: readonly string[]): { digests: Uint8Array; valid: Uint8Array } {
  const digests = new Uint8Array(hex.length * DIGEST_BYTES);
  const valid = new Uint8Array(hex.length);
  hex.forEach((h, i) => {
    if (!/^[0-9a-f]{64}$/.test(h)) return;
    valid[i] = 1;
    digests.set(Buffer.from(h, 'hex'), i * DIGEST_BYTES);
  });
  return { digests, valid };
}

/** True when the `i`-th digest of `a` equals the `j`-th of `b`. */
export function sameDigest(a: Uint8Array, i: number, b: Uint8Array, j: number): boolean {
  const x = i * DIGEST_BYTES;
  const y = j * DIGEST_BYTES;
  for (let k = 0; k < DIGEST_BYTES; k++) if (a[x + k] !== b[y + k]) return false;
  return true;
}

/** An append-only list of digests, in block order, stored in the pieces it arrived in. */
export class DigestList {
  private readonly parts: Uint8Array[] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  /** Appends `digests` (a multiple of 32 bytes); the list keeps the array, so the caller must not reuse it. */
  append(digests: Uint8Array): void {
    if (digests.length % DIGEST_BYTES !== 0) throw new Error(`digest bytes ${digests.length} are not a multiple of ${DIGEST_BYTES}`);
    if (digests.length > 0) this.parts.push(digests);
    this.count += digests.length / DIGEST_BYTES;
  }

  /** The digests in order, part by part (each a multiple of 32 bytes). */
  pieces(): readonly Uint8Array[] {
    return this.parts;
  }
}

/** Per byte value, its two lowercase hex digits as latin1 codes (high digit in the low byte). */
const HEX_PAIRS = new Uint16Array(256);
for (let b = 0; b < 256; b++) HEX_PAIRS[b] = '0123456789abcdef'.charCodeAt(b >> 4) | ('0123456789abcdef'.charCodeAt(b & 15) << 8);

/** One list item after the first: `,\n    "` + 64 hex digits + `"`. */
const ITEM_BYTES = 72;
const ITEM = Buffer.from(`,\n    "${' '.repeat(2 * DIGEST_BYTES)}"`, 'latin1');
const HEX_AT = 7; // where an item's digits start

/**
 * `digests` as the body of a JSON list in Python's `json.dumps(indent=2)` layout at nesting depth
 * one (items indented 4 spaces, closing bracket 2), written straight into `out` at `at`.
 * Returns the position after it. Needs `jsonListBytes(list.length)` bytes. NOTE: every item has
 * the same 72 bytes (the first with `[` for its comma), so the punctuation is one native fill and
 * the digits one table lookup per byte: a string and three writes per hash took 140-200 ms for an
 * 8 GiB volume's 262,144 hashes, which grew a CBT incremental with the volume (BENCHMARKS.md).
 */
export function writeJsonHexList(list: DigestList, out: Buffer, at: number): number {
  const n = list.length;
  if (n === 0) return at + out.write('[]', at, 'latin1');
  out.fill(ITEM, at, at + n * ITEM_BYTES);
  out[at] = 0x5b; // '[' in place of the first item's ','
  let w = at + HEX_AT;
  for (const part of list.pieces()) {
    for (let d = 0; d < part.length; d += DIGEST_BYTES) {
      for (let k = 0; k < DIGEST_BYTES; k++) {
        const pair = HEX_PAIRS[part[d + k]!]!;
        out[w + 2 * k] = pair & 0xff;
        out[w + 2 * k + 1] = pair >> 8;
      }
      w += ITEM_BYTES;
    }
  }
  return at + n * ITEM_BYTES + out.write('\n  ]', at + n * ITEM_BYTES, 'latin1');
}

/** Bytes `writeJsonHexList` writes for `n` digests. */
export function jsonListBytes(n: number): number {
  return n === 0 ? 2 : 2 + n * (4 + 66) + (n - 1) * 2 + 4;
}
