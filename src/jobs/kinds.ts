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

/**
 * Kinds whose work reads or writes files of one host (a volume, an instance's cluster): such a
 * job names its host and only a worker there claims it. The others touch only the database and
 * the object store, so any worker may run them.
 */
export const HOST_BOUND_KINDS = [
  'volume_copy',
  'snapshot_create',
  'snapshot_delete',
  'backup',
  'restore',
  'trove_instance_create',
  'trove_instance_delete',
  'trove_backup',
  'trove_instance_restore',
] as const satisfies readonly JobKind[];

export type HostBoundKind = (typeof HOST_BOUND_KINDS)[number];

/** A handler table for some kinds (a feature's part of the whole table). */
export type JobHandlers<K extends JobKind = JobKind> = { [P in K]: JobHandler };

interface JobFields {
  resourceId: string;
  /** The project the job works for: claims are fair across projects. Omit only for work of no project. */
  projectId?: string | null;
  payload?: Record<string, unknown>;
}

/**
 * A job to queue: a host-bound kind must name its host (the volume's or instance's; null only
 * for a resource recorded before hosts were, which any worker may then run).
 */
export type NewJob =
  | (JobFields & { kind: HostBoundKind; hostId: string | null })
  | (JobFields & { kind: Exclude<JobKind, HostBoundKind>; hostId?: never });

/** Queues work. Call it in the same transaction as the status change that asks for it. */
export function enqueueJob(db: Db, job: NewJob): Promise<JobRow> {
  return insertJob(db, job);
}
