import type { JobHandlers } from '../../../jobs/kinds.js';
import type { BackupManagerDeps } from './deps.js';
import { recoverBackupById } from './recovery.js';
import { runBackupJob } from './run-backup.js';
import { runDeleteJob } from './run-delete.js';
import { runImportJob } from './run-import.js';
import { runRestoreJob } from './run-restore.js';
import { runVerifyJob } from './run-verify.js';

export type { BackupManagerDeps } from './deps.js';

/**
 * The backup manager's job handlers, by kind, for the job worker. A `backup` or `restore`
 * job claimed again after its lease expired (attempts > 1: its worker died) is not re-run:
 * the row is settled by the recovery table instead (worker/recovery.ts), as Cinder's restart does.
 * Delete, import and verify are idempotent and simply run again.
 */
export function createBackupJobHandlers(
  deps: BackupManagerDeps,
): JobHandlers<'backup' | 'restore' | 'delete_backup' | 'import_record' | 'verify'> {
  return {
    backup: async (job, ctx) => {
      if (job.attempts > 1) await recoverBackupById(deps, job.resource_id);
      else return runBackupJob(deps, job, ctx);
    },
    restore: async (job, ctx) => {
      if (job.attempts > 1) await recoverBackupById(deps, job.resource_id, (job.payload as { volumeId?: string }).volumeId);
      else return runRestoreJob(deps, job, ctx);
    },
    delete_backup: async (job) => runDeleteJob(deps, job),
    import_record: async (job) => runImportJob(deps, job),
    verify: async (job, ctx) => runVerifyJob(deps, job, ctx),
  };
}
