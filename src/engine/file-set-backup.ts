import { open, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../storage/object-store.js';
import { parseSha256File, sha256FileName } from './backup-format.js';
import { OperationCancelledError, type BackupEngine, type BackupLocation, type ProgressHooks } from './engine-api.js';
import {
  blockListDigest,
  fileSubPrefix,
  type FileEntry,
  type FilePiece,
  type FileSetManifest,
  type RegularFileEntry,
} from './file-set-manifest.js';

/** One item of the tree to back up, as the caller walked it. */
export type FileSetSource =
  | { type: 'file'; path: string; absPath: string; mode: number }
  | { type: 'dir'; path: string; mode: number }
  | { type: 'symlink'; path: string; target: string };

export interface FileSetBackupRequest {
  backupId: string;
  ownerId: string; // recorded as the per-file backups' volume_id
  createdAt: Date;
  location: BackupLocation;
  sources: FileSetSource[];
  parent: { backupId: string; manifest: FileSetManifest } | null;
  blockSize: number;
  /** Numbers the files' sub-prefixes from here (a second call for the same backup continues the first's). */
  firstIndex?: number;
  /** Files backed up at once (each through the engine's shared memory budget). */
  concurrency?: number;
}

export interface FileSetBackupResult {
  entries: FileEntry[];
  storedBytes: number;
  bytesRead: number;
  /** Bytes of files whose data was reused from the parent without upload. */
  bytesReused: number;
  filesStored: number;
}

/** The hex sha256 of each block of `length` bytes from `offset` (what the engine's _sha256file holds for them). */
async function localBlockHashes(absPath: string, offset: number, length: number, blockSize: number): Promise<string[]> {
  const fh = await open(absPath, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.max(blockSize, Math.floor((4 << 20) / blockSize) * blockSize));
    const out: string[] = [];
    for (let pos = 0; pos < length; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, length - pos), offset + pos);
      if (bytesRead === 0) break;
      for (let o = 0; o < bytesRead; o += blockSize) {
        out.push(
          createHash('sha256')
            .update(buf.subarray(o, Math.min(o + blockSize, bytesRead)))
            .digest('hex'),
        );
      }
      pos += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}

async function sizeOf(absPath: string): Promise<number | null> {
  try {
    return (await stat(absPath)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Backs up the files of a directory tree (the caller writes the manifest, putManifest): every regular file through the chunked engine under its own
 * sub-prefix (compressed, sha256 per block). Against a parent, each of the parent's pieces of a
 * file whose block hashes are unchanged is reused; a changed one is stored incrementally (only
 * changed blocks); growth is a new piece, a shrunk file is stored anew. Files that vanish are skipped, a
 * file that shrinks while read is read again (the caller's WAL replay repairs torn content).
 */
export async function backupFileSet(
  engine: BackupEngine,
  store: ObjectStore,
  req: FileSetBackupRequest,
  hooks: ProgressHooks = {},
): Promise<FileSetBackupResult> {
  const parentFiles = new Map<string, RegularFileEntry>();
  // A parent hashed with another block size cannot be compared with: everything is stored in full.
  const usableParent = req.parent && req.parent.manifest.blockSize === req.blockSize ? req.parent : null;
  for (const e of usableParent?.manifest.entries ?? []) if (e.type === 'file') parentFiles.set(e.path, e);
  const entries: (FileEntry | null)[] = new Array(req.sources.length).fill(null);
  const result = { storedBytes: 0, bytesRead: 0, bytesReused: 0, filesStored: 0 };
  let done = 0;
  const total = req.sources.length;

  const storePiece = async (
    absPath: string,
    index: number,
    n: number,
    offset: number,
    length: number,
    parentPiece: FilePiece | null,
  ): Promise<FilePiece> => {
    const sub = fileSubPrefix(req.location.prefix, (req.firstIndex ?? 0) + index, n);
    const r = await engine.backup(store, {
      backupId: req.backupId,
      volumeId: req.ownerId,
      name: absPath,
      description: null,
      createdAt: req.createdAt,
      location: { container: req.location.container, prefix: sub },
      source: { path: absPath, sizeBytes: length, offset },
      parent: parentPiece
        ? { backupId: usableParent!.backupId, location: { container: req.location.container, prefix: parentPiece.chain.at(-1)! } }
        : null,
      volumeMeta: null,
    });
    result.storedBytes += r.storedBytes;
    result.bytesRead += r.bytesRead;
    const sha = await store.get(req.location.container, sha256FileName(sub));
    const digest = blockListDigest(parseSha256File(sha.toString('utf8'), sha256FileName(sub)).sha256s);
    return { offset, length, digest, chain: parentPiece ? [...parentPiece.chain, sub] : [sub] };
  };

  // The parent's pieces (when the file did not shrink) are kept if their blocks are unchanged,
  // stored incrementally if not; bytes beyond them are a new piece.
  const storePieces = async (absPath: string, size: number, index: number, prev: RegularFileEntry | undefined): Promise<FilePiece[]> => {
    const pieces: FilePiece[] = [];
    let covered = 0;
    for (const p of prev && prev.size <= size ? prev.pieces : []) {
      const local = blockListDigest(await localBlockHashes(absPath, p.offset, p.length, req.blockSize));
      result.bytesRead += p.length;
      if (local === p.digest) {
        result.bytesReused += p.length;
        pieces.push(p);
      } else {
        pieces.push(await storePiece(absPath, index, pieces.length, p.offset, p.length, p));
      }
      covered = p.offset + p.length;
    }
    if (covered < size) pieces.push(await storePiece(absPath, index, pieces.length, covered, size - covered, null));
    return pieces;
  };

  const backupFile = async (src: Extract<FileSetSource, { type: 'file' }>, index: number): Promise<RegularFileEntry | null> => {
    for (let attempt = 0; ; attempt++) {
      const size = await sizeOf(src.absPath);
      if (size === null) return null;
      try {
        const pieces = await storePieces(src.absPath, size, index, parentFiles.get(src.path));
        if (pieces.some((p) => p.chain.at(-1)!.startsWith(req.location.prefix))) result.filesStored++;
        return { type: 'file', path: src.path, mode: src.mode, size, pieces };
      } catch (err) {
        // The file shrank or vanished under the reader (a truncated relation): read it again.
        if (attempt < 3 && err instanceof Error && /ended at byte|ENOENT/.test(err.message)) continue;
        throw err;
      }
    }
  };

  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < req.sources.length && !failed) {
      const index = next++;
      const src = req.sources[index]!;
      if (hooks.shouldCancel && (await hooks.shouldCancel())) throw new OperationCancelledError('backup cancelled');
      entries[index] =
        src.type === 'file' ? await backupFile(src, index) : src.type === 'dir' ? { type: 'dir', path: src.path, mode: src.mode } : src;
      hooks.onProgress?.(++done, total);
    }
  };
  // Every worker ends before the first failure is thrown, so the caller's cleanup sees all objects.
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.max(1, req.concurrency ?? 8) }, () =>
      worker().catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejected) throw rejected.reason;

  return { entries: entries.filter((e): e is FileEntry => e !== null), ...result };
}
