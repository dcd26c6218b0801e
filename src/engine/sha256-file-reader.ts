import { parseSha256File } from './backup-format.js';
import { DIGEST_BYTES, digestsFromHex } from './digest-list.js';

/**
 * Reads a `_sha256file` straight from its bytes into raw digests. NOTE: the generic path (the
 * document as one string, JSON.parse, zod, one hex string per block) peaks at ~88 MiB more heap
 * and native memory for an 8 GiB volume's 262,144 hashes, and ~33 MiB of it stays resident for
 * the rest of a restore (freed, but not given back to the OS): that was the whole growth of a
 * restore's peak RSS from 1 to 8 GiB (BENCHMARKS.md, issue 16).
 */

/** Lowercase hex digit values, -1 for any other byte: Cinder writes lowercase, and only that can match. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const KEY = Buffer.from('"sha256s"', 'latin1');

/** Index after the string that starts at `i` (a quote), or -1 if it does not end. */
function stringEnd(doc: Buffer, i: number): number {
  for (let j = i + 1; j < doc.length; j++) {
    if (doc[j] === BACKSLASH) j++;
    else if (doc[j] === QUOTE) return j + 1;
  }
  return -1;
}

/**
 * The [start, end) bytes of the array value of the last top-level key spelled "sha256s", or null
 * when there is none. The caller checks that JSON.parse would keep that one (see readSha256File).
 */
function listSpan(doc: Buffer): [number, number] | null {
  let depth = 0;
  let span: [number, number] | null = null;
  for (let i = 0; i < doc.length; i++) {
    const b = doc[i];
    if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) depth--;
    else if (b === QUOTE) {
      const end = stringEnd(doc, i);
      if (end < 0) return null;
      let k = end;
      while (isSpace(doc[k])) k++;
      if (depth === 1 && doc[k] === 0x3a) {
        if (doc.subarray(i, end).equals(KEY)) {
          k++;
          while (isSpace(doc[k])) k++;
          if (doc[k] !== 0x5b) return null;
          const close = doc.indexOf(0x5d, k);
          if (close < 0) return null;
          span = [k, close + 1];
          i = close;
          continue;
        }
      }
      i = end - 1;
    }
  }
  return span;
}

/**
 * The list at `span`, `["<64 lowercase hex>", ...]` with JSON whitespace between tokens, as raw
 * digests; null when it is anything else. One pass that checks and decodes each hash together
 * (checking the whole list first, then decoding it, took twice as long: ~100 ms at 8 GiB).
 */
function decodeList(doc: Buffer, [start, end]: [number, number]): Uint8Array | null {
  const digests = new Uint8Array(Math.floor((end - start) / 66) * DIGEST_BYTES); // each item takes >= 66 bytes
  let w = 0;
  let i = start + 1;
  while (isSpace(doc[i])) i++;
  if (doc[i] !== 0x5d) {
    for (;;) {
      if (doc[i] !== QUOTE || doc[i + 65] !== QUOTE) return null;
      for (let k = i + 1; k < i + 65; k += 2) {
        const hi = HEX[doc[k]!]!;
        const lo = HEX[doc[k + 1]!]!;
        if ((hi | lo) < 0) return null;
        digests[w++] = (hi << 4) | lo;
      }
      i += 66;
      while (isSpace(doc[i])) i++;
      if (doc[i] === 0x5d) break;
      if (doc[i] !== 0x2c) return null;
      i++;
      while (isSpace(doc[i])) i++;
    }
  }
  // A view, not a copy: the estimate above is ~9 % long for Cinder's layout (72 bytes per item), and
  // a copy made 8 MiB of garbage at 8 GiB that lived into the restore's peak.
  return w === digests.length ? digests : digests.subarray(0, w);
}

type Sha256File = { blockSize: number; hashes: { digests: Uint8Array; valid: Uint8Array } };

function generic(doc: Buffer, objectName: string): Sha256File {
  const sha = parseSha256File(doc.toString('utf8'), objectName);
  return { blockSize: sha.blockSize, hashes: digestsFromHex(sha.sha256s) };
}

/**
 * Parses and checks a `_sha256file` as parseSha256File does (same errors), returning its hashes
 * as digestsFromHex does. A well-formed list is decoded from the bytes, one block at a time; any
 * other document (malformed hashes, escapes, odd layout) goes the generic way.
 */
export function readSha256File(doc: Buffer, objectName: string): Sha256File {
  const span = listSpan(doc);
  const digests = span && decodeList(doc, span);
  if (!span || !digests) return generic(doc, objectName);
  // The rest of the document, with the list emptied, is checked by the generic parser; a list it
  // still finds is another key JSON.parse keeps instead (one escaped, or repeated), so go generic.
  const rest = Buffer.concat([doc.subarray(0, span[0]), Buffer.from('[]'), doc.subarray(span[1])]);
  const { blockSize, sha256s } = parseSha256File(rest.toString('utf8'), objectName);
  if (sha256s.length > 0) return generic(doc, objectName);
  return { blockSize, hashes: { digests, valid: new Uint8Array(digests.length / DIGEST_BYTES).fill(1) } };
}
