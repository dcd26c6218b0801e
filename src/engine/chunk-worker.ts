import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { blockDigest } from './block-digest.js';
import { CodecError, compressForStore, decompress, zeroObject } from './codec.js';
import { DIGEST_BYTES, sameDigest } from './digest-list.js';
import { owned, transferList } from './worker-protocol.js';
import type { DecodeResult, DecodeTask, EncodedObject, EncodeResult, EncodeTask, WorkerReply, WorkerRequest } from './worker-protocol.js';

/**
 * Worker-thread entry: the CPU work of the data path (sha256 per block, zero detection, md5,
 * compression and decompression), off the event loop. Buffers arrive lent (shared or transferred)
 * and go back in the reply, so the main thread can recycle them.
 */

const port = parentPort;
if (!port) throw new Error('chunk-worker must run in a worker thread');

/**
 * sha256 of each block, 32 bytes each (transferable); sets `zeroFlags[i]` to 1 for all-zero blocks.
 * Block i of `length` bytes is at `at[i]` in `data` (at i * blockSize without `at`). With `known`
 * (CBT), a block it flags is not looked at: its digest is copied from `known.digests`.
 */
function hashBlocks(
  data: Buffer,
  length: number,
  blockSize: number,
  zeroFlags: Uint8Array,
  known: { skip: Uint8Array; digests: Uint8Array } | null = null,
  at: Float64Array | null = null,
): Uint8Array {
  const out = new Uint8Array(zeroFlags.length * DIGEST_BYTES);
  for (let off = 0, i = 0; off < length; off += blockSize, i++) {
    if (known && known.skip[i] === 1) {
      out.set(known.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES), i * DIGEST_BYTES);
      continue;
    }
    const from = at ? at[i]! : off;
    const block = data.subarray(from, from + Math.min(blockSize, length - off));
    const { digest, zero } = blockDigest(block);
    zeroFlags[i] = zero ? 1 : 0;
    out.set(digest, i * DIGEST_BYTES);
  }
  return out;
}

/** Where each block read is in a packed buffer: right after the block read before it (-1: not read). */
function packedOffsets(skip: Uint8Array, blockSize: number): Float64Array {
  const at = new Float64Array(skip.length);
  for (let i = 0, next = 0; i < skip.length; i++) {
    if (skip[i] === 1) at[i] = -1;
    else (at[i] = next), (next += blockSize);
  }
  return at;
}

function encode(t: EncodeTask, transfer: ArrayBuffer[]): EncodeResult {
  const at = t.packed && t.skip ? packedOffsets(t.skip, t.blockSize) : null;
  const data = Buffer.from(t.buf, 0, at ? t.buf.byteLength : t.length);
  const nBlocks = Math.ceil(t.length / t.blockSize);
  const zero = new Uint8Array(nBlocks);
  const known = t.skip && t.parent && { skip: t.skip, digests: t.parent.digests };
  const digests = hashBlocks(data, t.length, t.blockSize, zero, known, at);
  transfer.push(digests.buffer as ArrayBuffer);
  const unchanged = (i: number): boolean => t.parent !== null && t.parent.valid[i] === 1 && sameDigest(digests, i, t.parent.digests, i);
  // Runs to store: the whole chunk for a full backup; maximal runs of changed blocks otherwise.
  // A run holds no skipped block (skipped = unchanged), so in a packed buffer it is contiguous too.
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < nBlocks; ) {
    if (unchanged(i)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < nBlocks && !unchanged(j)) j++;
    runs.push([i, j]);
    i = j;
  }
  // Bodies go one after another into the recycled `out`: each is shorter than its run, and runs
  // do not overlap, so a body always has its run's length of room left.
  const out = t.out && t.compression === 'zstd' ? new Uint8Array(t.out) : null;
  let outAt = 0;
  const objects: EncodedObject[] = runs.map(([a, b]) => {
    const start = a * t.blockSize;
    const end = Math.min(b * t.blockSize, t.length);
    if (zero.subarray(a, b).every((z) => z === 1)) {
      const z = zeroObject(end - start, t.compression);
      return {
        relOffset: start,
        length: end - start,
        compression: z.compression,
        md5: z.md5,
        bodyMd5: z.bodyMd5,
        body: new Uint8Array(z.body),
      };
    }
    const from = at ? at[a]! : start;
    const raw = data.subarray(from, from + end - start);
    const md5Raw = createHash('md5').update(raw).digest();
    const md5 = md5Raw.toString('hex');
    if (t.compression !== 'none') {
      const body = compressForStore(raw, t.compression, t.zstdLevel, out?.subarray(outAt));
      if (body) {
        if (out) outAt += body.length;
        else transfer.push(body.buffer as ArrayBuffer);
        const bodyMd5 = t.bodyMd5 ? createHash('md5').update(body).digest('base64') : null;
        return { relOffset: start, length: end - start, compression: t.compression, md5, bodyMd5, body };
      }
    }
    // Stored raw: from the chunk's buffer, where the caller finds it at relOffset unless it is packed.
    const own = at ? new Uint8Array(raw) : null;
    if (own) transfer.push(own.buffer as ArrayBuffer);
    return { relOffset: start, length: end - start, compression: 'none', md5, bodyMd5: md5Raw.toString('base64'), body: own };
  });
  transfer.push(t.buf);
  if (t.out) transfer.push(t.out);
  return { kind: 'encode', buf: t.buf, digests, objects, out: t.out };
}

function decode(t: DecodeTask, transfer: ArrayBuffer[]): DecodeResult {
  const decoded = decompress(t.data, t.compression, t.length, t.out ? new Uint8Array(t.out) : undefined);
  // Decoded into the recycled buffer, left in place (stored raw), or in a buffer of its own. The
  // task's buffers all travel back, used or not, so the caller recycles them.
  const body = t.data.buffer as ArrayBuffer;
  const inPlace = decoded.buffer === t.out || decoded.buffer === body;
  const raw = inPlace ? new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length) : owned(decoded);
  for (const b of new Set([raw.buffer as ArrayBuffer, body, t.out])) if (b) transfer.push(b);
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const md5 = t.wantMd5 ? createHash('md5').update(buf).digest('hex') : null;
  const zero = new Uint8Array(Math.ceil(t.length / t.blockSize));
  const digests = hashBlocks(buf, buf.length, t.blockSize, zero);
  transfer.push(digests.buffer as ArrayBuffer);
  return { kind: 'decode', raw, md5, digests, zero: t.wantZeroFlags ? zero : null, out: t.out, body };
}

port.on('message', (msg: WorkerRequest) => {
  const transfer: ArrayBuffer[] = [];
  let reply: WorkerReply;
  try {
    const result = msg.task.kind === 'encode' ? encode(msg.task, transfer) : decode(msg.task, transfer);
    reply = { id: msg.id, result };
  } catch (err) {
    const codec = err instanceof CodecError;
    reply = { id: msg.id, error: err instanceof Error ? err.message : String(err), codecError: codec };
  }
  port.postMessage(reply, transferList(transfer));
});
