import { dbNow } from '../../../db/sql-values.js';
import { backupChain, findBackupAnyState, startProgress, transitionBackup } from '../../../db/backups-repository.js';
import { mergeMetadata } from '../../../db/resource-metadata.js';
import type { JobRow } from '../../../db/schema.js';
import { transitionVolume, findVolume } from '../../../db/volumes-repository.js';
import type { BackupLocation } from '../../../engine/engine-api.js';
import { OperationCancelledError } from '../../../engine/engine-api.js';
import type { JobContext, JobFailure } from '../../../jobs/worker.js';
import { GiB } from '../../../volumes/volume-backend.js';
import { withVolumeFrozen } from '../../volumes/fence.js';
import type { RestoreJobPayload } from '../restore.js';
import { BACKUP_TRANSITIONS } from '../status.js';
import { type BackupManagerDeps, locationOf } from './deps.js';
import { BackupJobFailure, reasonOf } from './failure.js';
import { progressHooks } from './progress-hooks.js';
import { applyVolumeMeta } from './volume-meta.js';

/** Target volume statuses while a restore fills it (restore API, or volume create from backup). */
export const RESTORE_TARGET_STATUSES = ['restoring-backup', 'creating'] as const;

/** Status for a target whose restore failed: created-for-the-restore volumes get `error` (quirk 9 fixed). */
function failedTargetStatus(previous: string): string {
  return previous === 'creating' ? 'error' : 'error_restoring';
}

/**
 * The `restore` job: fetch the chain (full first), verify and write into the target, then
 * backup restoring -> available and target -> available; on failure the target goes
 * error_restoring (or error) and the backup returns to available with a fail_reason.
 * Interrupted (a stop, a crash, a lost lease), it runs again from the start into the same
 * target: every byte is rewritten at its offset, so a partly written target ends identical.
 */
export async function runRestoreJob(deps: BackupManagerDeps, job: JobRow, ctx: JobContext): Promise<JobFailure | void> {
  const payload = job.payload as unknown as RestoreJobPayload;
  const backup = await findBackupAnyState(deps.db, job.resource_id);
  const target = await findVolume(deps.db, payload.volumeId, { projectId: null });
  if (!target) {
    if (backup)
      await transitionBackup(deps.db, backup.id, BACKUP_TRANSITIONS.finishRestore.from, {
        status: 'available',
        fail_reason: 'Restore target volume is gone.',
      });
    return;
  }
  const targetStatus = target.status;
  const failTarget = (status = failedTargetStatus(targetStatus)) =>
    transitionVolume(deps.db, target.id, RESTORE_TARGET_STATUSES, { status });
  if (!backup || backup.deleted || backup.status !== 'restoring') {
    await failTarget('error'); // cancelled before it started (reset or force delete)
    return;
  }
  const stillRestoring = async () => {
    if (ctx.signal.aborted) throw new Error('lease lost');
    return (await findBackupAnyState(deps.db, backup.id))?.status === 'restoring';
  };
  const hooks = progressHooks(deps.db, backup.id, ctx.log, stillRestoring);
  try {
    const chainRows = await backupChain(deps.db, backup.id);
    const chain: BackupLocation[] = chainRows.map((r) => {
      const loc = locationOf(r);
      if (!loc) throw new BackupJobFailure(`Backup ${r.id} of the chain has no stored data.`);
      return loc;
    });
    const sizeBytes = backup.size * GiB;
    if (payload.createTarget) {
      await deps.volumes.createVolume(target.id, target.size * GiB).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
    await startProgress(deps.db, backup.id, 'restore', sizeBytes, { jobId: job.id, attempt: job.attempts });
    // Fenced: a data upload into the target that was already running finishes first, and none
    // starts until the restore has written everything (else its late bytes land on the result).
    const result = await withVolumeFrozen(deps.db, target.id, () =>
      deps.volumes.trackWrite(target.id, 0, sizeBytes, () =>
        deps.engine.restore(
          deps.store,
          { chain, target: { path: deps.volumes.volumePath(target.id), sizeBytes }, targetIsNew: payload.targetIsNew },
          hooks,
        ),
      ),
    );
    await hooks.flush();
    await applyVolumeMeta(deps.db, target.id, result.volumeMeta);
    // Cinder marks a volume restored from another volume's backup with src_backup_id (cinder/backup/manager.py restore_backup).
    if (backup.volume_id !== target.id) await mergeMetadata(deps.db, 'volume_metadata', target.id, { src_backup_id: backup.id });
    await deps.db.transaction().execute(async (trx) => {
      await transitionBackup(trx, backup.id, BACKUP_TRANSITIONS.finishRestore.from, {
        status: 'available',
        progress_bytes_done: sizeBytes,
        progress_updated_at: dbNow(),
      });
      await transitionVolume(trx, target.id, RESTORE_TARGET_STATUSES, {
        status: 'available',
        ...(targetStatus === 'creating' ? { launched_at: dbNow() } : {}),
      });
    });
  } catch (err) {
    await hooks.flush();
    if (ctx.signal.aborted) throw err; // lease lost: the next owner recovers
    if (err instanceof OperationCancelledError) {
      await failTarget('error'); // Cinder: a cancelled restore leaves the volume in error
      return { outcome: 'failed', reason: 'restore cancelled' };
    }
    await transitionBackup(deps.db, backup.id, BACKUP_TRANSITIONS.finishRestore.from, { status: 'available', fail_reason: reasonOf(err) });
    await failTarget();
    return { outcome: 'failed', reason: reasonOf(err) };
  }
}
