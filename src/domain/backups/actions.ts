import { dbNow } from '../../db/sql-values.js';
import {
  backupMetadata,
  findBackup,
  hasDependents,
  lockBackupStatus,
  replaceBackupMetadata,
  transitionBackup,
  updateBackupFields,
} from '../../db/backups-repository.js';
import type { BackupRow, Db } from '../../db/schema.js';
import { countLiveJobs, hasLiveJob, lockProjectQueue } from '../../db/jobs-repository.js';
import { enqueueJob } from '../../jobs/kinds.js';
import { checkBackupName } from './names.js';
import { BACKUP_TRANSITIONS, RESET_TARGETS } from './status.js';
import type { BackupApiDeps, BackupView } from './deps.js';
import { getBackupFor } from './reads.js';
import { readScope } from '../common/scope.js';
import type { RequestContext } from '../common/context.js';
import { invalid, notFound, overLimit } from '../common/errors.js';
import { checkMetadataCount } from '../common/metadata-limit.js';
import { authorize } from '../common/policy.js';

/** Update, delete and the admin/extension actions on one backup. */

export interface UpdateBackupInput {
  name?: string | null;
  description?: string | null;
  /** Replaces the whole map when present (>= 3.43). */
  metadata?: Record<string, string>;
}

/** PUT /backups/{id} (>= 3.9): no status restriction; metadata replaces the map. */
export async function updateBackup(deps: BackupApiDeps, ctx: RequestContext, id: string, input: UpdateBackupInput): Promise<BackupView> {
  const current = await getBackupFor(deps, ctx, id, 'backup:update');
  checkBackupName(deps.config, input.name);
  checkMetadataCount(input.metadata);
  return deps.db.transaction().execute(async (trx) => {
    const changes: { display_name?: string | null; display_description?: string | null } = {};
    if (input.name !== undefined) changes.display_name = input.name;
    if (input.description !== undefined) changes.display_description = input.description;
    const row = (await updateBackupFields(trx, current.id, changes)) ?? current;
    if (input.metadata !== undefined) await replaceBackupMetadata(trx, current.id, input.metadata);
    const meta = await backupMetadata(trx, [current.id]);
    return { row, metadata: meta.get(current.id) ?? {} };
  });
}

/**
 * DELETE /backups/{id}: available | error -> deleting, refused while dependents exist.
 * The status CAS comes first and holds the row lock, so no child can pick this parent meanwhile.
 */
export async function deleteBackup(
  deps: BackupApiDeps,
  ctx: RequestContext,
  id: string,
  options: { inTransaction?: (trx: Db, row: BackupRow) => Promise<void> } = {},
): Promise<void> {
  const backup = await getBackupFor(deps, ctx, id, 'backup:delete');
  await deps.db.transaction().execute(async (trx) => {
    const moved = await transitionBackup(trx, backup.id, BACKUP_TRANSITIONS.delete.from, { status: 'deleting' });
    if (!moved) throw invalid('backup', 'Backup status must be available or error');
    if (await hasDependents(trx, backup.id)) throw invalid('backup', 'Incremental backups exist for this backup.');
    await enqueueJob(trx, { kind: 'delete_backup', resourceId: backup.id, projectId: backup.project_id });
    await options.inTransaction?.(trx, moved);
  });
}

/**
 * os-force_delete (admin): any status -> deleting, still refused with dependents. A running
 * backup (creating) is not given a delete job: its own job sees `deleting` at the next chunk,
 * removes what it wrote and soft-deletes the row, so nothing writes behind a delete.
 */
export async function forceDeleteBackup(deps: BackupApiDeps, ctx: RequestContext, id: string): Promise<void> {
  authorize(ctx, 'volume_extension:backup_admin_actions:force_delete');
  const backup = await findBackup(deps.db, id, readScope(ctx));
  if (!backup) throw notFound('Backup', id);
  await deps.db.transaction().execute(async (trx) => {
    const lockedStatus = await lockBackupStatus(trx, backup.id);
    if (await hasDependents(trx, backup.id)) throw invalid('backup', 'Incremental backups exist for this backup.');
    const moved = await transitionBackup(trx, backup.id, BACKUP_TRANSITIONS.forceDelete.from, { status: 'deleting' });
    if (!moved) throw notFound('Backup', id);
    if (lockedStatus !== 'creating' && lockedStatus !== 'deleting')
      await enqueueJob(trx, { kind: 'delete_backup', resourceId: backup.id, projectId: backup.project_id });
  });
}

/**
 * os-reset_status (admin): only `available` or `error`. A running backup or restore sees the
 * change at its next chunk and stops (fixing Cinder's quirk where a reset was overwritten).
 */
export async function resetBackupStatus(deps: BackupApiDeps, ctx: RequestContext, id: string, status: string): Promise<void> {
  authorize(ctx, 'volume_extension:backup_admin_actions:reset_status');
  const wanted = status.toLowerCase();
  if (!(RESET_TARGETS as readonly string[]).includes(wanted)) {
    throw invalid(null, `Backup status: ${status} is invalid, valid statuses are: ['available', 'error'].`);
  }
  const backup = await findBackup(deps.db, id, readScope(ctx));
  if (!backup) throw notFound('Backup', id);
  const moved = await transitionBackup(deps.db, backup.id, BACKUP_TRANSITIONS.resetStatus.from, { status: wanted });
  if (!moved) throw notFound('Backup', id);
}

/**
 * os-verify (extension, owner or admin): re-reads every object of the backup and checks md5
 * and sha256 in a job; the result lands in verified_at / verify_result (progress endpoint).
 * One verify per backup at a time (400 while one is queued or running), and none while the
 * project already has JOBS_QUEUED_PER_PROJECT jobs queued or running (413 overLimit): each
 * verify is a full re-read of the backup, so repeats must not pile up in the queue.
 */
export async function verifyBackup(deps: BackupApiDeps, ctx: RequestContext, id: string): Promise<void> {
  const backup = await getBackupFor(deps, ctx, id, 'backup:verify');
  if (backup.status !== 'available') throw invalid('backup', 'Backup status must be available');
  await deps.db.transaction().execute(async (trx) => {
    // The CAS locks the backup's row: concurrent verifies of one backup pass here one at a time.
    const moved = await transitionBackup(trx, backup.id, BACKUP_TRANSITIONS.verify.from, {
      progress_operation: 'verify',
      progress_bytes_done: 0,
      progress_bytes_total: 0,
      progress_started_at: dbNow(),
      verify_result: 'pending',
    });
    if (!moved) throw invalid('backup', 'Backup status must be available');
    if (await hasLiveJob(trx, 'verify', backup.id))
      throw invalid('backup', `A verify of backup ${backup.id} is already queued or running; wait for its result.`);
    await lockProjectQueue(trx, backup.project_id);
    const live = await countLiveJobs(trx, backup.project_id);
    if (live >= deps.config.JOBS_QUEUED_PER_PROJECT)
      throw overLimit(`Project ${backup.project_id} has ${live} jobs queued or running; retry os-verify when some have finished.`);
    await enqueueJob(trx, { kind: 'verify', resourceId: backup.id, projectId: backup.project_id });
  });
}
