import type { Db } from '../db/schema.js';
import { insertJob } from '../db/jobs-repository.js';
import type { JobRow } from '../db/schema.js';
import type { JobHandler } from './worker.js';

/**
 * Every kind of job the service queues, one a line, with the file that runs it. Adding a
 * kind is one line here; the type checker then asks for its handler in `services.ts`
 * (the handler table is `JobHandlers`, complete over `JobKind`).
 */
export const JOB_KINDS = [
  // volumes: src/domain/volumes/worker/
  'volume_copy', // volume-jobs.ts runVolumeCopy
  'snapshot_create', // snapshot-jobs.ts runSnapshotCreate
  'snapshot_delete', // snapshot-jobs.ts runSnapshotDelete
  // backups: src/domain/backups/worker/handlers.ts
  'backup', // run-backup.ts runBackupJob
  'restore', // run-restore.ts runRestoreJob
  'delete_backup', // run-delete.ts runDeleteJob
  'import_record', // run-import.ts runImportJob
  'verify', // run-verify.ts runVerifyJob
  // cbr: src/domain/cbr/
  // trove: src/domain/trove/
  'trove_instance_create', // instances/jobs.ts runCreateInstance
  'trove_instance_delete', // instances/jobs.ts runDeleteInstance
  'trove_backup', // backups/jobs.ts runTroveBackup
  'trove_backup_delete', // backups/jobs.ts runTroveBackupDelete
  'trove_instance_restore', // backups/restore-job.ts runInstanceRestore
] as const;

export type JobKind = (typeof JOB_KINDS)[number];

/** A handler table for some kinds (a feature's part of the whole table). */
export type JobHandlers<K extends JobKind = JobKind> = { [P in K]: JobHandler };

export interface NewJob {
  kind: JobKind;
  resourceId: string;
  payload?: Record<string, unknown>;
}

/** Queues work. Call it in the same transaction as the status change that asks for it. */
export function enqueueJob(db: Db, job: NewJob): Promise<JobRow> {
  return insertJob(db, job);
}
