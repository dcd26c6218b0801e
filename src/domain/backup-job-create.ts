import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { adjustDependents, findBackupAnyState, startProgress, transitionBackup, updateBackupFields } from '../db/backups-repository.js';
import { findVolumeForBackup, volumeUserMetadata } from '../db/backup-sources-repository.js';
import type { BackupRow, JobRow } from '../db/schema.js';
import { OperationCancelledError } from '../engine/engine-api.js';
import type { JobContext } from '../engine/job-worker.js';
import { GiB } from '../volumes/volume-backend.js';
import {
  BACKUP_HOST,
  BackupJobFailure,
  type BackupManagerDeps,
  completeDelete,
  locationOf,
  objectPrefix,
  progressHooks,
  reasonOf,
  releaseBackupSource,
  removeTemporaries,
  volumeMetaString,
} from './backup-manager.js';
import { BACKUP_TRANSITIONS } from './backup-status.js';

/** Picks the file to read: the snapshot, a temporary snapshot of an in-use volume, or the volume. */
async function prepareSource(deps: BackupManagerDeps, row: BackupRow): Promise<string> {
  if (row.snapshot_id) return deps.volumes.snapshotPath(row.snapshot_id);
  const volume = await findVolumeForBackup(deps.db, row.volume_id, { projectId: null });
  if (!volume || volume.status !== 'backing-up') throw new BackupJobFailure(`Volume ${row.volume_id} is not backing-up.`);
  if (volume.previous_status !== 'in-use') return deps.volumes.volumePath(row.volume_id);
  // Crash-consistent copy of an attached volume; recorded before it exists so recovery can remove it.
  const tempId = randomUUID();
  await updateBackupFields(deps.db, row.id, { temp_snapshot_id: tempId });
  row.temp_snapshot_id = tempId;
  await deps.volumes.createSnapshot(tempId, row.volume_id);
  return deps.volumes.snapshotPath(tempId);
}

/** The backup was force-deleted or reset while it ran: objects are gone (engine), settle the rest. */
async function settleCancelled(deps: BackupManagerDeps, row: BackupRow): Promise<void> {
  await releaseBackupSource(deps.db, row, false);
  const now = await findBackupAnyState(deps.db, row.id);
  if (now?.status === 'deleting') await completeDelete(deps, now);
  else await removeTemporaries(deps, row);
}

/**
 * The `backup` job: reads the source, writes Cinder's chunked format under a prefix that is
 * persisted before the first object, and ends with a compare-and-set to available (object
 * count, parent counter, source status in one transaction) or error with fail_reason.
 */
export async function runBackupJob(deps: BackupManagerDeps, job: JobRow, ctx: JobContext): Promise<void> {
  let row = await findBackupAnyState(deps.db, job.resource_id);
  if (!row || row.deleted) return;
  if (row.status === 'deleting') return settleCancelled(deps, row); // force-deleted while queued
  if (row.status !== 'creating') return;
  const stillCreating = async () => {
    if (ctx.signal.aborted) throw new Error('lease lost');
    const now = await findBackupAnyState(deps.db, job.resource_id);
    return now?.status === 'creating';
  };
  const hooks = progressHooks(deps.db, row.id, ctx.log, stillCreating);
  try {
    if (row.availability_zone !== deps.config.AVAILABILITY_ZONE) throw new BackupJobFailure('Service not found for creating backup.');
    const path = await prepareSource(deps, row);
    const container = row.container ?? deps.store.defaultContainer;
    const prefix = objectPrefix(row.volume_id, deps.config.AVAILABILITY_ZONE, row.id, new Date());
    row = (await updateBackupFields(deps.db, row.id, { container, service_metadata: prefix, service: deps.store.serviceName, host: BACKUP_HOST })) ?? row;
    await deps.store.ensureContainer(container);
    const parentRow = row.parent_id ? await findBackupAnyState(deps.db, row.parent_id) : undefined;
    const parentLoc = parentRow ? locationOf(parentRow) : null;
    if (row.parent_id && !parentLoc) throw new BackupJobFailure(`Parent backup ${row.parent_id} has no stored data.`);
    const volume = await findVolumeForBackup(deps.db, row.volume_id, { projectId: null });
    const volumeMeta = volume ? volumeMetaString(volume, await volumeUserMetadata(deps.db, volume.id)) : null;
    const sizeBytes = row.size * GiB;
    await startProgress(deps.db, row.id, 'backup', sizeBytes);
    const result = await deps.engine.backup(
      deps.store,
      {
        backupId: row.id,
        volumeId: row.volume_id,
        name: row.display_name,
        description: row.display_description,
        createdAt: row.created_at,
        location: { container, prefix },
        source: { path, sizeBytes },
        parent: parentLoc && row.parent_id ? { backupId: row.parent_id, location: parentLoc } : null,
        volumeMeta,
      },
      hooks,
    );
    await hooks.flush();
    const finished = await deps.db.transaction().execute(async (trx) => {
      const done = await transitionBackup(trx, row!.id, BACKUP_TRANSITIONS.finishBackup, {
        status: 'available',
        object_count: result.objectCount,
        stored_bytes: Math.max(1, result.storedBytes),
        progress_bytes_done: sizeBytes,
        progress_updated_at: sql<Date>`now()` as unknown as Date,
      });
      if (!done) return undefined;
      if (done.parent_id) await adjustDependents(trx, done.parent_id, 1);
      await releaseBackupSource(trx as never, done, true);
      return done;
    });
    if (!finished) {
      // Cancelled between the last chunk and the finish: remove what we wrote.
      await deps.engine.deleteBackup(deps.store, { container, prefix });
      await settleCancelled(deps, row);
      return;
    }
    await removeTemporaries(deps, finished);
  } catch (err) {
    await hooks.flush();
    if (ctx.signal.aborted) throw err; // lease lost: the next owner recovers the row
    if (err instanceof OperationCancelledError) return settleCancelled(deps, row);
    ctx.log.warn({ err }, 'backup failed');
    const failed = await transitionBackup(deps.db, row.id, BACKUP_TRANSITIONS.finishBackup, { status: 'error', fail_reason: reasonOf(err) });
    if (failed) await releaseBackupSource(deps.db, failed, false);
    await removeTemporaries(deps, row).catch((e) => ctx.log.warn({ err: e }, 'temporary snapshot not removed'));
  }
}
