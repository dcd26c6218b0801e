import { stuckBackups, transitionBackup } from '../../../db/backups-repository.js';
import type { BackupRow } from '../../../db/schema.js';
import { findVolume, transitionVolume } from '../../../db/volumes-repository.js';
import { forgetStoredObjects } from '../../../db/backup-stored-objects-repository.js';
import { volumeHostId } from '../../volumes/host.js';
import { enqueueJob } from '../../../jobs/kinds.js';
import { type BackupManagerDeps, locationOf } from './deps.js';
import { releaseBackupSource, removeTemporaries } from './settle.js';

/**
 * Start-up recovery (Cinder's BackupManager._cleanup_incomplete_backup_operations, https://opendev.org/openstack/cinder/src/branch/master/cinder/backup/manager.py), as a table: what a backup left in a
 * busy status with no live job becomes. One test per row (test/integration/backup-jobs-recovery).
 * NOTE: a busy backup whose job is still there (queued, released at a stop, or running under an
 * expired lease) is not in this table: its job runs again and resumes (run-backup, run-restore).
 * Cinder's reset survives only where resuming is impossible, in `fail_backup`:
 * - the backup's source is gone (its snapshot, or the temporary snapshot of an in-use volume,
 *   was removed after objects were stored from it, or the volume is no longer backing-up);
 * - encrypted backups being deleted (no key context at restart: error_deleting);
 * - a restore whose job row is gone (its payload, the target's creation, is lost): release_restore.
 */
export type RecoveryAction = 'resume_backup' | 'fail_backup' | 'release_restore' | 'resume_delete' | 'clean_temporaries' | 'none';

export const RECOVERY_TABLE: Record<string, RecoveryAction> = {
  /** The backup job is queued again on the volume's host; it resumes from the objects stored. */
  creating: 'resume_backup',
  /** Target volume error_restoring (error when created for the restore), backup available. */
  restoring: 'release_restore',
  /** The delete runs again (error_deleting for encrypted backups: no key context at restart). */
  deleting: 'resume_delete',
  /** Leftover temporary snapshot/volume removed, ids cleared. */
  error: 'clean_temporaries',
  available: 'none',
  error_deleting: 'none',
};

export const RESTART_FAIL_REASON = 'incomplete backup reset on manager restart';

/**
 * Cinder's reset of a backup that cannot resume: source back to its previous status, stored
 * objects and temporaries removed, backup `error` with `reason` (compare-and-set from creating).
 */
export async function failIncompleteBackup(deps: BackupManagerDeps, row: BackupRow, reason = RESTART_FAIL_REASON): Promise<void> {
  await releaseBackupSource(deps.db, row, false);
  const loc = locationOf(row);
  if (loc) await deps.engine.deleteBackup(deps.store, loc);
  await removeTemporaries(deps, row);
  await forgetStoredObjects(deps.db, row.id);
  await transitionBackup(deps.db, row.id, ['creating'], { status: 'error', fail_reason: reason.slice(0, 255) });
}

/** Applies the table to one backup. `restoreTarget` overrides restore_volume_id (from the job payload). */
export async function recoverBackup(deps: BackupManagerDeps, row: BackupRow, restoreTarget?: string): Promise<RecoveryAction> {
  const action = RECOVERY_TABLE[row.status] ?? 'none';
  switch (action) {
    case 'resume_backup': {
      const volume = await findVolume(deps.db, row.volume_id, { projectId: null });
      await enqueueJob(deps.db, {
        kind: 'backup',
        resourceId: row.id,
        projectId: row.project_id,
        hostId: volume ? volumeHostId(volume) : null,
      });
      break;
    }
    case 'fail_backup':
      await failIncompleteBackup(deps, row);
      break;
    case 'release_restore': {
      const target = restoreTarget ?? row.restore_volume_id;
      if (target) {
        await transitionVolume(deps.db, target, ['restoring-backup'], { status: 'error_restoring' });
        await transitionVolume(deps.db, target, ['creating'], { status: 'error' });
      }
      await transitionBackup(deps.db, row.id, ['restoring'], { status: 'available' });
      break;
    }
    case 'resume_delete':
      if (row.encryption_key_id) {
        await transitionBackup(deps.db, row.id, ['deleting'], { status: 'error_deleting' });
      } else {
        await enqueueJob(deps.db, { kind: 'delete_backup', resourceId: row.id, projectId: row.project_id });
      }
      break;
    case 'clean_temporaries':
      await removeTemporaries(deps, row);
      break;
    case 'none':
      break;
  }
  return action;
}

/**
 * The start-up sweep: every busy backup without a live job (queued, or running under an
 * unexpired lease) and every `error` backup holding temporaries is settled by the table.
 * Jobs whose lease expired are left to the worker: it claims them again and resumes them.
 */
export async function recoverStuckBackups(deps: BackupManagerDeps): Promise<Array<{ id: string; action: RecoveryAction }>> {
  const rows = await stuckBackups(deps.db);
  const out: Array<{ id: string; action: RecoveryAction }> = [];
  for (const row of rows) out.push({ id: row.id, action: await recoverBackup(deps, row) });
  return out;
}
