import { createHash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import Bunzip from 'seek-bzip';
import { Compressor, Decompressor } from 'zstd-napi';
import type { Compression } from './engine-api.js';

/**
 * Per-object codecs of Cinder's chunked driver (reference §9.4). Runs inside the worker threads.
 *
 * NOTE: zlib level 1, not Cinder's 6: L1 was 1.15-1.5x faster than L6 on bench/engine-quick.ts's image
 * (40 % random pages) for 1.5 % more bytes, and 3x faster for 8 % more on components.md §3's text-heavier
 * image; any level reads back. zstd level 3 (the library default, as Cinder's python-zstd writes) costs
 * about 2x the CPU of level 1 for 5 % smaller objects, yet still keeps a 2-core backup near 300 MiB/s of
 * CPU budget, above what the stores absorb (posix fsync, S3), so the smaller objects win.
 */
export const ZLIB_LEVEL = 1;
export const ZSTD_LEVEL = 3;

let zstdCompressor: Compressor | undefined;
let zstdDecompressor: Decompressor | undefined;

/** Compresses `data`; zstd writes ONE frame carrying the content size (python-zstd refuses others). */
export function compress(data: Uint8Array, compression: Compression): Buffer {
  switch (compression) {
    case 'zstd':
      if (!zstdCompressor) {
        zstdCompressor = new Compressor();
        zstdCompressor.setParameters({ compressionLevel: ZSTD_LEVEL, contentSizeFlag: true, checksumFlag: false });
      }
      return zstdCompressor.compress(data);
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
 * container, `bzip2` = `bz2`), checking the output is exactly `expectedLength` bytes.
 */
export function decompress(data: Uint8Array, compression: string, expectedLength: number): Buffer {
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
        zstdDecompressor ??= new Decompressor();
        out = zstdDecompressor.decompress(data);
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
    hit = { body: stored, compression: stored === zeros ? 'none' : compression, md5, bodyMd5: createHash('md5').update(stored).digest('base64') };
    // Bounded: chunks have at most two distinct lengths (full and tail) per run, plus incremental runs.
    if (zeroCache.size > 64) zeroCache.clear();
    zeroCache.set(key, hit);
  }
  return hit;
}
