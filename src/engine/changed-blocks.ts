import type { FileHandle } from 'node:fs/promises';

/**
 * Reading a backup's source with changed-block tracking (CBT): the caller (the volume backend's
 * change map) says which blocks were written since the parent; only those are read and hashed,
 * the others keep the parent's hashes. Any block the parent cannot vouch for is read anyway.
 */

/** Reads exactly `buf.length` bytes at `position`; a short file is an error (the source shrank). */
export async function readFully(fh: FileHandle, buf: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error(`source ${path} ended at byte ${position + done}, expected more`);
    done += bytesRead;
  }
}

/**
 * CBT: per block, 1 = read it (written since the parent, or the parent's hash is malformed and
 * would never match); null = read everything (no map, or one of another length).
 */
export function blocksToRead(changed: Uint8Array | null | undefined, valid: Uint8Array, blocks: number): Uint8Array | null {
  if (!changed || changed.length !== blocks) return null;
  const out = new Uint8Array(blocks);
  for (let i = 0; i < blocks; i++) out[i] = changed[i] !== 0 || valid[i] !== 1 ? 1 : 0;
  return out;
}

/** The chunk's blocks NOT to read (1), for the worker; null when every block is read anyway. */
export function skipMask(toRead: Uint8Array, first: number, blocks: number): Uint8Array | null {
  const skip = new Uint8Array(blocks);
  let any = false;
  for (let i = 0; i < blocks; i++) if (toRead[first + i] === 0) (skip[i] = 1), (any = true);
  return any ? skip : null;
}

/** The bytes `readBlocks` reads for a chunk of `length` bytes: its blocks not flagged in `skip`. */
export function bytesToRead(skip: Uint8Array, length: number, blockSize: number): number {
  let bytes = 0;
  for (let i = 0; i < skip.length; i++) if (skip[i] === 0) bytes += Math.min(blockSize, length - i * blockSize);
  return bytes;
}

/**
 * Reads only the chunk's blocks not flagged in `skip`, run by run, into `buf`; returns the bytes read.
 * Each block goes to its place in the chunk, or with `packed` right after the block read before it
 * (a buffer of `bytesToRead` bytes: the worker finds each block by counting, see chunk-worker.ts).
 */
export async function readBlocks(
  fh: FileHandle,
  buf: ArrayBuffer,
  position: number,
  length: number,
  blockSize: number,
  skip: Uint8Array,
  path: string,
  packed = false,
): Promise<number> {
  let read = 0;
  for (let i = 0; i < skip.length; ) {
    if (skip[i] === 1) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < skip.length && skip[j] === 0) j++;
    const start = i * blockSize;
    const end = Math.min(j * blockSize, length);
    await readFully(fh, new Uint8Array(buf, packed ? read : start, end - start), position + start, path);
    read += end - start;
    i = j;
  }
  return read;
}
