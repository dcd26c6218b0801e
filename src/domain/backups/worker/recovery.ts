import { findBackupAnyState, stuckBackups, transitionBackup } from '../../../db/backups-repository.js';
import type { BackupRow } from '../../../db/schema.js';
import { transitionVolume } from '../../../db/volumes-repository.js';
import { enqueueJob } from '../../../jobs/kinds.js';
import { type BackupManagerDeps, locationOf } from './deps.js';
import { releaseBackupSource, removeTemporaries } from './settle.js';

/**
 * Start-up and lease-expiry recovery (Cinder's BackupManager._cleanup_incomplete_backup_operations, https://opendev.org/openstack/cinder/src/branch/master/cinder/backup/manager.py), as a table: what a backup left in a
 * busy status by a dead worker becomes. One test per row (test/integration/backup-jobs-recovery).
 */
export type RecoveryAction = 'fail_backup' | 'release_restore' | 'resume_delete' | 'clean_temporaries' | 'none';

export const RECOVERY_TABLE: Record<string, RecoveryAction> = {
  /** Source back to its previous status, partial objects deleted, backup error. */
  creating: 'fail_backup',
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

/** Applies the table to one backup. `restoreTarget` overrides restore_volume_id (from the job payload). */
export async function recoverBackup(deps: BackupManagerDeps, row: BackupRow, restoreTarget?: string): Promise<RecoveryAction> {
  const action = RECOVERY_TABLE[row.status] ?? 'none';
  switch (action) {
    case 'fail_backup': {
      await releaseBackupSource(deps.db, row, false);
      const loc = locationOf(row);
      if (loc) await deps.engine.deleteBackup(deps.store, loc);
      await removeTemporaries(deps, row);
      await transitionBackup(deps.db, row.id, ['creating'], { status: 'error', fail_reason: RESTART_FAIL_REASON });
      break;
    }
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

/** recoverBackup by id (used by job handlers claimed again after a lease expiry). */
export async function recoverBackupById(deps: BackupManagerDeps, id: string, restoreTarget?: string): Promise<RecoveryAction> {
  const row = await findBackupAnyState(deps.db, id);
  if (!row || row.deleted) return 'none';
  return recoverBackup(deps, row, restoreTarget);
}

/**
 * The start-up sweep: every busy backup without a live job (queued, or running under an
 * unexpired lease) and every `error` backup holding temporaries is settled by the table.
 * Jobs whose lease expired are left to the worker: it claims them again and recovers then.
 */
export async function recoverStuckBackups(deps: BackupManagerDeps): Promise<Array<{ id: string; action: RecoveryAction }>> {
  const rows = await stuckBackups(deps.db);
  const out: Array<{ id: string; action: RecoveryAction }> = [];
  for (const row of rows) out.push({ id: row.id, action: await recoverBackup(deps, row) });
  return out;
}
