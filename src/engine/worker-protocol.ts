import type { Compression } from './engine-api.js';

/**
 * Messages between the engine and chunk-worker.ts. The buffers inside travel back and forth: a
 * pool's SharedArrayBuffers shared, any other ArrayBuffer transferred (transferList).
 */

export interface EncodeTask {
  kind: 'encode';
  buf: ArrayBuffer; // the chunk, lent to the worker; comes back in EncodeResult.buf
  length: number;
  blockSize: number;
  compression: Compression;
  zstdLevel: number;
  /**
   * For an incremental: the parent's digests of this chunk's blocks (32 bytes each) and, per block,
   * 1 when the parent's entry was a well-formed hash (a malformed one never matches); null for a full backup.
   */
  parent: { digests: Uint8Array; valid: Uint8Array } | null;
  /**
   * Changed-block tracking: per block, 1 = not read (its bytes in `buf` are garbage), unchanged,
   * its digest is the parent's; null = every block was read. Only with `parent`.
   */
  skip: Uint8Array | null;
  /**
   * With `skip`: `buf` holds only the blocks read, back to back (a CBT chunk with few changed
   * blocks travels in a buffer of their size, not in a pooled one of the whole chunk's). Objects
   * then always come back with a body.
   */
  packed: boolean;
  /** Compute each stored body's md5 (Content-MD5); only when the store sends it. */
  bodyMd5: boolean;
  /**
   * A recycled buffer (lent, at least `length` bytes) that zstd bodies are written into,
   * one after another; comes back as EncodeResult.out, used or not. Null: each body gets a buffer of its own.
   */
  out: ArrayBuffer | null;
}

export interface EncodedObject {
  relOffset: number; // within the chunk
  length: number; // uncompressed
  compression: Compression;
  md5: string; // hex md5 of the uncompressed bytes (recorded in _metadata)
  bodyMd5: string | null; // base64 md5 of the stored bytes (Content-MD5), when asked for
  /** The bytes to store, or null: store the chunk's own bytes [relOffset, relOffset+length) raw. */
  body: Uint8Array | null;
}

export interface EncodeResult {
  kind: 'encode';
  buf: ArrayBuffer;
  digests: Uint8Array; // sha256 of each block, 32 bytes each
  objects: EncodedObject[];
  /** The task's `out` buffer, back for recycling once the bodies that view it are stored. */
  out: ArrayBuffer | null;
}

export interface DecodeTask {
  kind: 'decode';
  /** The stored bytes, their buffer lent (it may be a longer, recycled one); comes back as DecodeResult.body. */
  data: Uint8Array;
  compression: string;
  length: number;
  blockSize: number;
  wantZeroFlags: boolean;
  /**
   * md5 of the decoded bytes. Not needed when every block is checked against `_sha256file`
   * (sha256 is the stronger check of the same bytes, and with SHA-NI several times cheaper).
   */
  wantMd5: boolean;
  /** A recycled buffer (lent) to decode into when it is large enough; comes back as `raw`'s buffer. */
  out: ArrayBuffer | null;
}

export interface DecodeResult {
  kind: 'decode';
  raw: Uint8Array; // over the task's `out` buffer when that was used
  md5: string | null;
  digests: Uint8Array; // sha256 of each block, 32 bytes each
  zero: Uint8Array | null; // 1 per all-zero block, when asked
  /** The task's `out` buffer, back for recycling (`raw` views it when the object was decoded into it). */
  out: ArrayBuffer | null;
  /** The buffer of the task's `data`, back for recycling (`raw` views it when the object was stored raw). */
  body: ArrayBuffer;
}

export interface WorkerRequest {
  id: number;
  task: EncodeTask | DecodeTask;
}

export type WorkerReply =
  | { id: number; result: EncodeResult | DecodeResult; error?: undefined }
  | { id: number; error: string; codecError: boolean };

/** The buffers of `list` that move by transfer: a pool's SharedArrayBuffers are shared instead (concurrency.ts BufferPool). */
export function transferList(list: ArrayBuffer[]): ArrayBuffer[] {
  return list.filter((b) => !((b as unknown) instanceof SharedArrayBuffer));
}

/** A view as a transferable Uint8Array owning its whole ArrayBuffer (copies pooled or sliced views). */
export function owned(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b);
}
