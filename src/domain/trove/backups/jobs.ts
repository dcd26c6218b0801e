import type { Logger } from 'pino';
import type { JobRow, TroveBackupRow } from '../../../db/schema.js';
import { findTroveBackup, markTroveBackupDeleteFailed, transitionTroveBackup } from '../../../db/trove-backups-repository.js';
import { findInstance, transitionInstance } from '../../../db/trove-instances-repository.js';
import type { JobHandlers } from '../../../jobs/kinds.js';
import { pathsOf } from '../instances/runtime.js';
import { TRANSITIONS } from '../instances/status.js';
import { type TroveBackupDeps, TroveBackupStatus, locationOf } from './deps.js';
import { takePhysicalBackup } from './physical-backup.js';
import { runInstanceRestore } from './restore-job.js';

const RUNNING = [TroveBackupStatus.NEW, TroveBackupStatus.BUILDING];

/** FAILED with a reason and the objects removed; the instance leaves BACKUP. */
async function failBackup(deps: TroveBackupDeps, row: TroveBackupRow, reason: string): Promise<void> {
  await deps.engine.deleteBackup(deps.store, locationOf(row)).catch(() => {});
  await transitionTroveBackup(deps.db, row.id, RUNNING, TroveBackupStatus.FAILED, { fail_reason: reason.slice(0, 4000) });
  await transitionInstance(deps.db, row.instance_id, TRANSITIONS.backup_end[0], { status: TRANSITIONS.backup_end[1] });
}

/**
 * Takes the physical backup: NEW -> BUILDING -> COMPLETED (size = the cluster's bytes) or
 * FAILED with its objects removed; the instance goes back from BACKUP to ACTIVE either way.
 * A job claimed again (its worker died mid-backup) is not re-run: it ends FAILED, cleaned up.
 */
export async function runTroveBackup(deps: TroveBackupDeps, job: JobRow, log: Logger): Promise<void> {
  const row = await findTroveBackup(deps.db, job.resource_id, null);
  if (!row || !RUNNING.includes(row.status as (typeof RUNNING)[number])) return;
  if (job.attempts > 1 || row.status !== TroveBackupStatus.NEW) {
    await failBackup(deps, row, 'The service stopped while the backup ran.');
    return;
  }
  if (!(await transitionTroveBackup(deps.db, row.id, [TroveBackupStatus.NEW], TroveBackupStatus.BUILDING))) return;
  const instance = await findInstance(deps.db, row.instance_id);
  try {
    if (!instance) throw new Error(`instance ${row.instance_id} is gone`);
    const paths = pathsOf(deps.config, instance);
    const parent = row.parent_id ? await findTroveBackup(deps.db, row.parent_id, null) : undefined;
    if (row.parent_id && parent?.status !== TroveBackupStatus.COMPLETED) throw new Error(`parent backup ${row.parent_id} is not COMPLETED`);
    const r = await takePhysicalBackup(deps.engine, deps.store, {
      backupId: row.id,
      instanceId: instance.id,
      createdAt: row.created_at,
      location: locationOf(row),
      blockSize: deps.config.BACKUP_BLOCK_SIZE,
      cluster: {
        connection: { host: paths.run, port: instance.port, user: 'postgres' },
        dataDir: paths.pgdata,
        archiveDir: paths.walArchive,
      },
      parent: parent ? { backupId: parent.id, location: locationOf(parent) } : null,
    });
    await transitionTroveBackup(deps.db, row.id, [TroveBackupStatus.BUILDING], TroveBackupStatus.COMPLETED, {
      size_bytes: r.dataBytes,
      stored_bytes: r.storedBytes,
    });
    await transitionInstance(deps.db, row.instance_id, TRANSITIONS.backup_end[0], { status: TRANSITIONS.backup_end[1] });
    log.info(
      { backup_id: row.id, stored_bytes: r.storedBytes, data_bytes: r.dataBytes, reused_bytes: r.bytesReused },
      'trove backup completed',
    );
  } catch (err) {
    log.warn({ err, backup_id: row.id }, 'trove backup failed');
    await failBackup(deps, row, `Backup failed: ${(err as Error).message}`);
  }
}

/**
 * Removes a deleted backup's objects (the row is already marked deleted, 404 to the API). When
 * the store refuses, the row goes DELETE_FAILED with the reason and the job fails; the orphan GC
 * removes what is left, since no live backup owns the prefix any more.
 */
export async function runTroveBackupDelete(deps: TroveBackupDeps, job: JobRow): Promise<void> {
  const p = job.payload as { container?: string; prefix?: string };
  if (typeof p.container !== 'string' || typeof p.prefix !== 'string') return;
  try {
    await deps.engine.deleteBackup(deps.store, { container: p.container, prefix: p.prefix });
  } catch (err) {
    await markTroveBackupDeleteFailed(deps.db, job.resource_id, `Delete failed: ${(err as Error).message}`.slice(0, 4000));
    throw err;
  }
}

/** The database backup job handlers, by kind. */
export function troveBackupJobHandlers(
  deps: TroveBackupDeps,
): JobHandlers<'trove_backup' | 'trove_backup_delete' | 'trove_instance_restore'> {
  return {
    trove_backup: (job, ctx) => runTroveBackup(deps, job, ctx.log),
    trove_backup_delete: (job) => runTroveBackupDelete(deps, job),
    trove_instance_restore: (job, ctx) => runInstanceRestore(deps, job, ctx.log),
  };
}
