import { chmod, mkdir, open, symlink } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { ObjectStore } from '../storage/object-store.js';
import { BackupIntegrityError, OperationCancelledError, type BackupEngine, type ProgressHooks } from './engine-api.js';
import { withBackupListing } from './file-set-listing.js';
import type { FileSetManifest } from './file-set-manifest.js';

export interface FileSetRestoreResult {
  files: number;
  bytesWritten: number;
  bytesFetched: number;
}

/** `path` inside `root`, refusing anything that climbs out of it (a manifest is data, not trusted). */
function inside(root: string, path: string): string {
  const abs = resolve(root, path);
  if (abs !== resolve(root) && !abs.startsWith(resolve(root) + sep))
    throw new BackupIntegrityError(`manifest path ${path} leaves the target`);
  return abs;
}

/**
 * Restores a file-set manifest into `targetDir` (which should be empty): directories, symlinks,
 * then every regular file through the engine from its chain (each block verified by sha256, md5
 * per object). Any missing or altered object is a BackupIntegrityError; nothing is guessed.
 * Each backup of the chains is listed once (withBackupListing), not once per piece.
 */
export async function restoreFileSet(
  engine: BackupEngine,
  store: ObjectStore,
  container: string,
  manifest: FileSetManifest,
  targetDir: string,
  hooks: ProgressHooks & { concurrency?: number } = {},
): Promise<FileSetRestoreResult> {
  const listed = withBackupListing(store);
  await mkdir(targetDir, { recursive: true });
  const result: FileSetRestoreResult = { files: 0, bytesWritten: 0, bytesFetched: 0 };
  for (const e of manifest.entries) {
    if (e.type === 'dir') await mkdir(inside(targetDir, e.path), { recursive: true, mode: e.mode & 0o7777 });
  }
  for (const e of manifest.entries) {
    if (e.type === 'symlink') {
      await mkdir(dirname(inside(targetDir, e.path)), { recursive: true });
      await symlink(e.target, inside(targetDir, e.path));
    }
  }
  const files = manifest.entries.filter((e) => e.type === 'file');
  const total = files.reduce((n, f) => n + f.size, 0);
  let done = 0;
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < files.length && !failed) {
      const f = files[next++]!;
      if (hooks.shouldCancel && (await hooks.shouldCancel())) throw new OperationCancelledError('restore cancelled');
      const abs = inside(targetDir, f.path);
      await mkdir(dirname(abs), { recursive: true });
      const fh = await open(abs, 'w', f.mode & 0o7777);
      try {
        await fh.truncate(f.size);
      } finally {
        await fh.close();
      }
      await chmod(abs, f.mode & 0o7777);
      if (f.pieces.reduce((n, p) => n + p.length, 0) !== f.size)
        throw new BackupIntegrityError(`manifest entry ${f.path}: pieces do not cover its size`);
      for (const p of f.pieces) {
        const r = await engine.restore(listed, {
          chain: p.chain.map((prefix) => ({ container, prefix })),
          target: { path: abs, sizeBytes: p.length, offset: p.offset },
          targetIsNew: true,
        });
        result.bytesFetched += r.bytesFetched;
      }
      result.bytesWritten += f.size;
      result.files++;
      done += f.size;
      hooks.onProgress?.(done, total);
    }
  };
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.max(1, hooks.concurrency ?? 4) }, () =>
      worker().catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejected) throw rejected.reason;
  return result;
}
