import { chmod, chown, lstat, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupEngine, BackupLocation, ProgressHooks } from '../../../engine/engine-api.js';
import { BackupIntegrityError } from '../../../engine/engine-api.js';
import { getManifest, type FileSetManifest } from '../../../engine/file-set-manifest.js';
import { restoreFileSet } from '../../../engine/file-set-restore.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import type { PgBackupExtra } from './physical-backup.js';

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  if (!(await lstat(path)).isDirectory()) return;
  for (const name of await readdir(path)) await chownTree(join(path, name), uid, gid);
}

function pgExtra(manifest: FileSetManifest): PgBackupExtra {
  const e = manifest.extra as Partial<PgBackupExtra>;
  if (e.kind !== 'postgresql-physical' || typeof e.backupLabel !== 'string' || typeof e.tablespaceMap !== 'string') {
    throw new BackupIntegrityError(`backup ${manifest.backupId} is not a PostgreSQL physical backup`);
  }
  return e as PgBackupExtra;
}

/**
 * Lays a physical backup into an empty data directory: every file from its chain (blocks verified),
 * the WAL it needs in pg_wal/, and backup_label (+ tablespace_map), so that starting PostgreSQL on
 * it replays to the backup's end and comes up consistent, as a pg_basebackup copy does.
 * `owner` (uid/gid) is applied to the whole tree (PostgreSQL runs as its own user when we are root).
 */
export async function restorePhysicalBackup(
  engine: BackupEngine,
  store: ObjectStore,
  location: BackupLocation,
  targetDir: string,
  options: { owner?: { uid: number; gid: number }; hooks?: ProgressHooks; walDir?: string } = {},
): Promise<{ manifest: FileSetManifest; bytesWritten: number; bytesFetched: number }> {
  const manifest = await getManifest(store, location);
  const extra = pgExtra(manifest);
  const r = await restoreFileSet(engine, store, location.container, manifest, targetDir, options.hooks);
  await chmod(targetDir, 0o700); // PostgreSQL refuses a data directory others can read
  await writeFile(join(targetDir, 'backup_label'), extra.backupLabel, { mode: 0o600 });
  if (extra.tablespaceMap !== '') await writeFile(join(targetDir, 'tablespace_map'), extra.tablespaceMap, { mode: 0o600 });
  if (options.walDir) {
    // For an archive recovery (recovery.signal + restore_command reading walDir).
    await mkdir(options.walDir, { recursive: true });
    for (const name of extra.walFiles) await rename(join(targetDir, 'pg_wal', name), join(options.walDir, name));
  }
  if (options.owner) {
    await chownTree(targetDir, options.owner.uid, options.owner.gid);
    if (options.walDir) await chownTree(options.walDir, options.owner.uid, options.owner.gid);
  }
  return { manifest, bytesWritten: r.bytesWritten, bytesFetched: r.bytesFetched };
}
