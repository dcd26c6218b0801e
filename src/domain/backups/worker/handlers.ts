import type { JobHandlers } from '../../../jobs/kinds.js';
import type { BackupManagerDeps } from './deps.js';
import { runBackupJob } from './run-backup.js';
import { runDeleteJob } from './run-delete.js';
import { runImportJob } from './run-import.js';
import { runRestoreJob } from './run-restore.js';
import { runVerifyJob } from './run-verify.js';

export type { BackupManagerDeps } from './deps.js';

/**
 * The backup manager's job handlers, by kind, for the job worker. A job claimed again (attempts
 * > 1: released at a stop, or its worker died or lost its lease) runs again: a backup resumes
 * from the objects it stored (run-backup), a restore rewrites the same target (idempotent), a
 * verify starts over; delete and import are idempotent. Where a backup cannot resume, it
 * settles itself by the recovery table's fail_backup (worker/recovery.ts), as Cinder's restart does.
 */
export function createBackupJobHandlers(
  deps: BackupManagerDeps,
): JobHandlers<'backup' | 'restore' | 'delete_backup' | 'import_record' | 'verify'> {
  return {
    backup: async (job, ctx) => runBackupJob(deps, job, ctx),
    restore: async (job, ctx) => runRestoreJob(deps, job, ctx),
    delete_backup: async (job) => runDeleteJob(deps, job),
    import_record: async (job) => runImportJob(deps, job),
    verify: async (job, ctx) => runVerifyJob(deps, job, ctx),
  };
}
