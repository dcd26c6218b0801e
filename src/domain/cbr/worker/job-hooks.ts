import { findBackupAnyState, hasDependents, transitionBackup } from '../../../db/backups-repository.js';
import { releasableHeldParent } from '../../../db/cbr-backups-repository.js';
import { activeOperationLogs, activeRemovalLogs, transitionOperationLog } from '../../../db/cbr-operation-logs-repository.js';
import type { BackupRow, CbrOperationLogRow, Db, JobRow } from '../../../db/schema.js';
import { findVolume } from '../../../db/volumes-repository.js';
import { enqueueJob } from '../../../jobs/kinds.js';
import type { JobHandler } from '../../../jobs/worker.js';
import { BACKUP_TRANSITIONS } from '../../backups/status.js';
import { type BackupManagerDeps, createBackupJobHandlers } from '../../backups/worker/handlers.js';
import { operationProgress } from '../operation-logs/operation-logs.js';
import { settleRemovalLogs } from './removal-logs.js';

/**
 * The backup manager's handlers with CBR's operation logs kept in step: before a backup, restore or
 * delete job runs, its logs go waiting -> running; after it (also when it throws), each log is settled
 * from what the job left in the rows (success | failed with error_info), or stays running while the
 * row still says the work is under way (a retry or the recovery table settles it later).
 * A delete also releases a parent that was deleted through CBR and waited for its last dependent, and
 * settles the vault removals (remove_resource, vault_delete) whose backups it deleted.
 */
export function createCbrAwareBackupJobHandlers(deps: BackupManagerDeps): ReturnType<typeof createBackupJobHandlers> {
  const inner = createBackupJobHandlers(deps);
  const db = deps.db;
  return {
    ...inner,
    backup: around(
      inner.backup,
      db,
      (job) => activeOperationLogs(db, { backupId: job.resource_id, operationType: 'backup' }),
      settleBackup,
    ),
    restore: around(inner.restore, db, (job) => activeOperationLogs(db, { jobId: job.id }), settleRestore),
    // Outer: the vault's `vault_delete` and the volume's `remove_resource` logs this delete works for.
    delete_backup: around(
      around(
        inner.delete_backup,
        db,
        (job) => activeOperationLogs(db, { backupId: job.resource_id, operationType: 'delete' }),
        async (db, job, logs) => {
          const row = await settleDelete(db, job, logs);
          if (row?.deleted && row.parent_id) await releaseHeldParent(db, row.parent_id);
        },
      ),
      db,
      (job) => removalLogsOf(db, job),
      (db, _job, logs) => settleRemovalLogs(db, logs),
    ),
  };
}

type Settle = (db: Db, job: JobRow, logs: CbrOperationLogRow[]) => Promise<unknown>;

/** A job failing with a reason the engine did not classify (CBR has no code for it; ours). */
export const JOB_FAILED_CODE = 'BackupService.9999';

function around(handler: JobHandler, db: Db, logsOf: (job: JobRow) => Promise<CbrOperationLogRow[]>, settle: Settle): JobHandler {
  return async (job, ctx) => {
    for (const log of await logsOf(job)) {
      await transitionOperationLog(db, log.id, ['waiting'], { status: 'running', started_at: new Date() });
    }
    try {
      return await handler(job, ctx);
    } finally {
      const logs = await logsOf(job);
      if (logs.length) await settle(db, job, logs);
    }
  };
}

async function removalLogsOf(db: Db, job: JobRow): Promise<CbrOperationLogRow[]> {
  const row = await findBackupAnyState(db, job.resource_id);
  return row?.vault_id ? activeRemovalLogs(db, row.vault_id, row.volume_id) : [];
}

async function finish(db: Db, logs: CbrOperationLogRow[], ok: boolean, message: string, backup: BackupRow | undefined) {
  for (const log of logs) {
    const progress = operationProgress({ ...log, status: 'running' }, backup);
    await transitionOperationLog(db, log.id, ['waiting', 'running'], {
      status: ok ? 'success' : 'failed',
      ended_at: new Date(),
      ...(ok ? {} : { error_code: JOB_FAILED_CODE, error_message: message }),
      extra: JSON.stringify({ ...(log.extra as object), progress: ok ? 100 : progress }),
    });
  }
}

async function settleBackup(db: Db, job: JobRow, logs: CbrOperationLogRow[]): Promise<void> {
  const row = await findBackupAnyState(db, job.resource_id);
  if (row && !row.deleted && row.status === 'creating') return;
  if (row?.status === 'available') await finish(db, logs, true, '', row);
  else await finish(db, logs, false, row?.fail_reason ?? 'The backup was deleted before it completed.', row);
}

async function settleRestore(db: Db, job: JobRow, logs: CbrOperationLogRow[]): Promise<void> {
  const row = await findBackupAnyState(db, job.resource_id);
  if (row && !row.deleted && row.status === 'restoring') return;
  const targetId = (job.payload as { volumeId?: string }).volumeId ?? '';
  const target = await findVolume(db, targetId, { projectId: null });
  const ok = target?.status === 'available' || target?.status === 'in-use';
  await finish(db, logs, ok, row?.fail_reason ?? `Restore into volume ${targetId} failed.`, row);
}

async function settleDelete(db: Db, job: JobRow, logs: CbrOperationLogRow[]): Promise<BackupRow | undefined> {
  const row = await findBackupAnyState(db, job.resource_id);
  if (row && !row.deleted && row.status === 'deleting') return row;
  await finish(db, logs, !row || row.deleted, row?.fail_reason ?? '', row);
  return row;
}

/** Deletes a parent held for its dependents once none is left (then its own parent, job after job). */
async function releaseHeldParent(db: Db, parentId: string): Promise<void> {
  const parent = await releasableHeldParent(db, parentId);
  if (!parent) return;
  try {
    await db.transaction().execute(async (trx) => {
      if (!(await transitionBackup(trx, parent.id, BACKUP_TRANSITIONS.delete.from, { status: 'deleting' }))) return;
      // A new incremental took it as parent meanwhile: it stays held (rolled back) until that one goes.
      if (await hasDependents(trx, parent.id)) throw new StillNeeded();
      await enqueueJob(trx, { kind: 'delete_backup', resourceId: parent.id });
    });
  } catch (err) {
    if (!(err instanceof StillNeeded)) throw err;
  }
}

class StillNeeded extends Error {}
