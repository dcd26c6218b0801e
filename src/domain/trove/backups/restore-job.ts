import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { JobRow } from '../../../db/schema.js';
import { findTroveBackup } from '../../../db/trove-backups-repository.js';
import { findInstance } from '../../../db/trove-instances-repository.js';
import { failInstance, finishRestoredInstance } from '../instances/jobs.js';
import { pathsOf } from '../instances/runtime.js';
import { InstanceStatus } from '../instances/status.js';
import { type TroveBackupDeps, TroveBackupStatus, locationOf } from './deps.js';
import { restorePhysicalBackup } from './physical-restore.js';

/**
 * Builds an instance from a backup: the chain's files into its (emptied) pgdata, every block
 * verified, WAL into a directory recovery reads; then trove-instances' finishRestoredInstance
 * recovers and starts it (ACTIVE), or the instance goes ERROR with the reason. A job claimed
 * again after a crash starts over from an empty directory.
 */
export async function runInstanceRestore(deps: TroveBackupDeps, job: JobRow, log: Logger): Promise<void> {
  const instance = await findInstance(deps.db, job.resource_id);
  if (!instance || instance.status !== InstanceStatus.BUILD) return;
  const paths = pathsOf(deps.config, instance);
  const walDir = join(paths.root, 'restore-wal');
  try {
    const backupId = (job.payload as { backupId?: string }).backupId ?? instance.restore_backup_id;
    const backup = backupId ? await findTroveBackup(deps.db, backupId, null) : undefined;
    if (!backup || backup.status !== TroveBackupStatus.COMPLETED) throw new Error(`backup ${backupId} is no longer available`);
    await rm(paths.pgdata, { recursive: true, force: true });
    await rm(walDir, { recursive: true, force: true });
    const r = await restorePhysicalBackup(deps.engine, deps.store, locationOf(backup), paths.pgdata, { walDir });
    log.info({ instance_id: instance.id, backup_id: backup.id, bytes: r.bytesWritten, fetched: r.bytesFetched }, 'trove restore laid out');
  } catch (err) {
    log.warn({ err, instance_id: instance.id }, 'trove restore failed');
    await rm(paths.pgdata, { recursive: true, force: true }).catch(() => {});
    await failInstance(deps, instance, `Restore failed: ${(err as Error).message}`);
    return;
  }
  await finishRestoredInstance(deps, instance.id, walDir);
  await rm(walDir, { recursive: true, force: true }).catch(() => {});
}
