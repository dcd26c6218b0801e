import { createHash } from 'node:crypto';
import { type FileHandle, stat } from 'node:fs/promises';

/**
 * The on-disk form of a volume's change map (see change-tracker.ts): a 512-byte header, JSON with
 * its own sha256 and padded (one sector: written whole or, torn, rejected by its checksum), then
 * one byte per block.
 */

export const CBT_FORMAT = 1;
export const HEADER_BYTES = 512;

/** The volume file's identity as recorded: a change the service did not make shows up here. */
export interface FileStamp {
  size: number;
  mtimeNs: string;
  ino: string;
}

export interface Header {
  format: number;
  /** Random per sidecar created: a sidecar is valid only for the file it was created with (inode too). */
  generation: string;
  volumeId: string;
  blockSize: number;
  blocks: number;
  state: 'clean' | 'writing';
  /** The file as the service last left it (after its last write, or at the reset). */
  known: FileStamp | null;
  /** The backup that last reset the map (null: never reset, every block dirty) and the file then. */
  reset: { backupId: string; at: string; file: FileStamp } | null;
}

export async function fileStamp(path: string): Promise<FileStamp> {
  const s = await stat(path, { bigint: true });
  return { size: Number(s.size), mtimeNs: s.mtimeNs.toString(), ino: s.ino.toString() };
}

export function sameStamp(a: FileStamp | null, b: FileStamp | null): boolean {
  return a !== null && b !== null && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino;
}

export function encodeHeader(h: Header): Buffer {
  const body = JSON.stringify(h);
  const text = JSON.stringify({ h, sum: createHash('sha256').update(body).digest('hex') });
  if (text.length >= HEADER_BYTES) throw new Error('CBT header too long');
  const out = Buffer.alloc(HEADER_BYTES, 0x20);
  out.write(text, 0, 'utf8');
  out[HEADER_BYTES - 1] = 0x0a;
  return out;
}

export function decodeHeader(buf: Buffer): Header | null {
  try {
    const { h, sum } = JSON.parse(buf.toString('utf8').trim()) as { h: Header; sum: string };
    return createHash('sha256').update(JSON.stringify(h)).digest('hex') === sum ? h : null;
  } catch {
    return null;
  }
}

export async function readHeader(fh: FileHandle): Promise<Header | null> {
  const buf = Buffer.alloc(HEADER_BYTES);
  const { bytesRead } = await fh.read(buf, 0, HEADER_BYTES, 0);
  return bytesRead === HEADER_BYTES ? decodeHeader(buf) : null;
}

/** The header of a map that starts with every block dirty and no reset. */
export function freshHeader(volumeId: string, blockSize: number, blocks: number, generation: string, known: FileStamp | null): Header {
  return { format: CBT_FORMAT, generation, volumeId, blockSize, blocks, state: 'writing', known, reset: null };
}
