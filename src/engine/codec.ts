import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { deflateSync, inflateSync } from 'node:zlib';
import Bunzip from 'seek-bzip';
import { Decompressor } from 'zstd-napi';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import type { Compression } from './engine-api.js';
import { owned } from './worker-protocol.js';

// zstd-napi's raw binding: its Compressor allocates a compressBound-sized output per call and
// copies the frame out of it; the binding compresses into a buffer of our choosing (zstdCompress)
// and decompresses into a recycled one.
const zstd = createRequire(import.meta.url)('zstd-napi/binding') as typeof ZstdBinding;

/**
 * Per-object codecs of Cinder's chunked driver (compressors of https://opendev.org/openstack/cinder/src/branch/master/cinder/backup/chunkeddriver.py). Runs inside the worker threads.
 *
 * NOTE: zlib level 1, not Cinder's 6: L1 was 1.15-1.5x faster than L6 on bench/engine-quick.ts's image
 * (40 % random pages) for 1.5 % more bytes, and 3x faster for 8 % more on a text-heavier
 * image; any level reads back. zstd level 3 (the library default, as Cinder's python-zstd writes) costs
 * about 2x the CPU of level 1 for 5 % smaller objects, yet still keeps a 2-core backup near 300 MiB/s of
 * CPU budget, above what the stores absorb (posix fsync, S3), so the smaller objects win.
 */
export const ZLIB_LEVEL = 1;
export const ZSTD_LEVEL = 3;

let zstdCCtx: ZstdBinding.CCtx | undefined;
let zstdCCtxLevel = ZSTD_LEVEL;
let zstdDCtx: ZstdBinding.DCtx | undefined;

/** The thread's compression context at `level` (it outlives one operation; engines of several levels may share this thread). */
function zstdContext(level: number): ZstdBinding.CCtx {
  if (!zstdCCtx) {
    zstdCCtx = new zstd.CCtx();
    zstdCCtx.setParameter(zstd.CParameter.compressionLevel, level);
    zstdCCtx.setParameter(zstd.CParameter.contentSizeFlag, 1);
    zstdCCtx.setParameter(zstd.CParameter.checksumFlag, 0);
    zstdCCtxLevel = level;
  } else if (zstdCCtxLevel !== level) {
    zstdCCtx.setParameter(zstd.CParameter.compressionLevel, level);
    zstdCCtxLevel = level;
  }
  return zstdCCtx;
}

/**
 * One zstd frame with the content size in its header, written straight into `dst` (its length
 * is the capacity): the frame as a view of `dst`, or null when it does not fit.
 */
function zstdCompressInto(data: Uint8Array, dst: Uint8Array, level = ZSTD_LEVEL): Uint8Array | null {
  const cctx = zstdContext(level);
  if (dst.length <= 0) return null;
  try {
    return dst.subarray(0, cctx.compress2(dst, data));
  } catch {
    return null; // dstSize_tooSmall: not smaller than the capacity
  }
}

/**
 * The frame in a fresh buffer of `capacity` bytes. Only the pages the frame touches become
 * resident, so a chunk-sized capacity costs address space, not memory, and nothing is copied.
 */
function zstdCompress(data: Uint8Array, capacity: number, level = ZSTD_LEVEL): Uint8Array | null {
  return capacity <= 0 ? null : zstdCompressInto(data, new Uint8Array(new ArrayBuffer(capacity)), level);
}

/**
 * Compresses `data` for storing, or null when that does not make it smaller (store it raw). The
 * result views offset 0 of an ArrayBuffer nothing else holds (transferable to another thread as
 * is), or with `into`, a zstd frame is written at the start of `into` and views it. NOTE: on this
 * machine type the first touch of fresh memory costs about as much as compressing into it (a 32 MiB
 * chunk: 110 ms into a new buffer, 57 ms into a reused one; BENCHMARKS.md), so full chunks
 * compress into recycled buffers.
 */
export function compressForStore(
  data: Uint8Array,
  compression: 'zstd' | 'zlib',
  zstdLevel = ZSTD_LEVEL,
  into?: Uint8Array,
): Uint8Array | null {
  if (compression === 'zstd') {
    if (into) return zstdCompressInto(data, into.subarray(0, Math.min(into.length, data.length - 1)), zstdLevel);
    return zstdCompress(data, data.length - 1, zstdLevel);
  }
  const z = deflateSync(data, { level: ZLIB_LEVEL });
  return z.length < data.length ? owned(z) : null;
}

/** Compresses `data`; zstd writes ONE frame carrying the content size (python-zstd refuses others). */
export function compress(data: Uint8Array, compression: Compression): Buffer {
  switch (compression) {
    case 'zstd': {
      const frame = zstdCompress(data, zstd.compressBound(data.length));
      if (!frame) throw new Error('zstd compression failed');
      return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    }
    case 'zlib':
      return deflateSync(data, { level: ZLIB_LEVEL });
    case 'none':
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
}

/** Thrown by decompress on corrupt or wrong-length input; the caller names the object. */
export class CodecError extends Error {
  override name = 'CodecError';
}

/**
 * Decompresses one object by its recorded algorithm name (Cinder's aliases: `gzip` is a zlib
 * container, `bzip2` = `bz2`), checking the output is exactly `expectedLength` bytes. With `into`
 * (at least `expectedLength + 1` bytes) a zstd object is decoded into it, not into a new buffer.
 */
export function decompress(data: Uint8Array, compression: string, expectedLength: number, into?: Uint8Array): Buffer {
  if (into && into.length > expectedLength && compression === 'zstd') {
    if (zstdDecompressInto(into.subarray(0, expectedLength + 1), data) === expectedLength) {
      return Buffer.from(into.buffer, into.byteOffset, expectedLength);
    }
    // Wrong length or undecodable: the allocating path below names the failure precisely.
  }
  let out: Buffer;
  try {
    switch (compression) {
      case 'none':
        out = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        break;
      case 'zlib':
      case 'gzip':
        out = inflateSync(data, { maxOutputLength: expectedLength + 1 });
        break;
      case 'bz2':
      case 'bzip2':
        out = Bunzip.decode(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        break;
      case 'zstd':
        out = zstdDecompressAlloc(data);
        break;
      default:
        throw new CodecError(`unknown compression ${compression}`);
    }
  } catch (err) {
    if (err instanceof CodecError) throw err;
    throw new CodecError(`cannot be decompressed as ${compression}`);
  }
  if (out.length !== expectedLength) {
    throw new CodecError(`decompressed to ${out.length} bytes, expected ${expectedLength}`);
  }
  return out;
}

/** Bytes written into `dst`, or -1 when the frame does not decode into it (corrupt, or too long). */
function zstdDecompressInto(dst: Uint8Array, data: Uint8Array): number {
  zstdDCtx ??= new zstd.DCtx();
  try {
    return zstdDCtx.decompress(dst, data);
  } catch {
    return -1;
  }
}

/** A frame of any length: one allocation of its recorded content size, else streamed. */
function zstdDecompressAlloc(data: Uint8Array): Buffer {
  zstdDCtx ??= new zstd.DCtx();
  const size = zstd.getFrameContentSize(data);
  if (size !== null) {
    const out = Buffer.allocUnsafeSlow(size);
    const n = zstdDCtx.decompress(out, data);
    return n === size ? out : out.subarray(0, n);
  }
  return new Decompressor().decompress(data);
}

/** Stored form of a zero run: body, its codec, hex md5 of the zeros, base64 md5 of the body. */
export interface ZeroObject {
  body: Buffer;
  compression: Compression;
  md5: string;
  bodyMd5: string;
}

const zeroCache = new Map<string, ZeroObject>();

/**
 * The stored form of `length` zero bytes, computed once per (codec, length) and reused, so all-zero
 * regions cost neither the codec nor the md5 again. Falls back to raw when compressing does not shrink.
 */
export function zeroObject(length: number, compression: Compression): ZeroObject {
  const key = `${compression}:${length}`;
  let hit = zeroCache.get(key);
  if (!hit) {
    const zeros = Buffer.alloc(length);
    const body = compression === 'none' ? zeros : compress(zeros, compression);
    const md5 = createHash('md5').update(zeros).digest('hex');
    const stored = body.length < length ? body : zeros;
    hit = {
      body: stored,
      compression: stored === zeros ? 'none' : compression,
      md5,
      bodyMd5: createHash('md5').update(stored).digest('base64'),
    };
    // Bounded: chunks have at most two distinct lengths (full and tail) per run, plus incremental runs.
    if (zeroCache.size > 64) zeroCache.clear();
    zeroCache.set(key, hit);
  }
  return hit;
}
