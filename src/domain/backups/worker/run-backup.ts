import { dbNow } from '../../../db/sql-values.js';
import { randomUUID } from 'node:crypto';
import {
  adjustDependents,
  findBackupAnyState,
  startProgress,
  transitionBackup,
  updateBackupFields,
} from '../../../db/backups-repository.js';
import { recordBackupPrefix } from '../../../db/backup-prefixes-repository.js';
import { metadataOf } from '../../../db/resource-metadata.js';
import type { BackupRow, JobRow } from '../../../db/schema.js';
import { findVolume } from '../../../db/volumes-repository.js';
import { objectPrefix } from '../../../engine/backup-format.js';
import { OperationCancelledError } from '../../../engine/engine-api.js';
import type { JobContext, JobFailure } from '../../../jobs/worker.js';
import { GiB } from '../../../volumes/volume-backend.js';
import { withVolumeFrozen } from '../../volumes/fence.js';
import { BACKUP_TRANSITIONS } from '../status.js';
import { BACKUP_HOST, type BackupManagerDeps, locationOf } from './deps.js';
import { BackupJobFailure, reasonOf } from './failure.js';
import { progressHooks } from './progress-hooks.js';
import { completeDelete, releaseBackupSource, removeTemporaries } from './settle.js';
import { volumeMetaString } from './volume-meta.js';

/**
 * Picks the file to read: the snapshot, a temporary snapshot of an in-use volume, or the
 * volume itself (`frozen`: read under the volume's fence, so no data write lands mid-backup).
 */
async function prepareSource(deps: BackupManagerDeps, row: BackupRow): Promise<{ path: string; frozen: boolean }> {
  if (row.snapshot_id) return { path: deps.volumes.snapshotPath(row.snapshot_id), frozen: false };
  const volume = await findVolume(deps.db, row.volume_id, { projectId: null });
  if (!volume || volume.status !== 'backing-up') throw new BackupJobFailure(`Volume ${row.volume_id} is not backing-up.`);
  if (volume.previous_status !== 'in-use') return { path: deps.volumes.volumePath(row.volume_id), frozen: true };
  // Crash-consistent copy of an attached volume; recorded before it exists so recovery can remove it.
  const tempId = randomUUID();
  await updateBackupFields(deps.db, row.id, { temp_snapshot_id: tempId });
  row.temp_snapshot_id = tempId;
  await withVolumeFrozen(deps.db, row.volume_id, () => deps.volumes.createSnapshot(tempId, row.volume_id));
  return { path: deps.volumes.snapshotPath(tempId), frozen: false };
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
export async function runBackupJob(deps: BackupManagerDeps, job: JobRow, ctx: JobContext): Promise<JobFailure | void> {
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
    const { path, frozen } = await prepareSource(deps, row);
    const container = row.container ?? deps.store.defaultContainer;
    const prefix = objectPrefix(row.volume_id, deps.config.AVAILABILITY_ZONE, row.id, new Date());
    const cur: BackupRow =
      (await updateBackupFields(deps.db, row.id, {
        container,
        service_metadata: prefix,
        service: deps.store.serviceName,
        host: BACKUP_HOST,
      })) ?? row;
    row = cur;
    await deps.store.ensureContainer(container);
    // Recorded before the first object (GC collects leftovers only under prefixes recorded here),
    // and only once the container exists: a container that could not be made is never scanned.
    await recordBackupPrefix(deps.db, { container, prefix, backupId: row.id });
    const parentRow = cur.parent_id ? await findBackupAnyState(deps.db, cur.parent_id) : undefined;
    const parentLoc = parentRow ? locationOf(parentRow) : null;
    if (cur.parent_id && !parentLoc) throw new BackupJobFailure(`Parent backup ${cur.parent_id} has no stored data.`);
    const volume = await findVolume(deps.db, cur.volume_id, { projectId: null });
    const volumeMeta = volume ? volumeMetaString(volume, await metadataOf(deps.db, 'volume_metadata', volume.id)) : null;
    const sizeBytes = cur.size * GiB;
    await startProgress(deps.db, cur.id, 'backup', sizeBytes, { jobId: job.id, attempt: job.attempts });
    const copy = () =>
      deps.engine.backup(
        deps.store,
        {
          backupId: cur.id,
          volumeId: cur.volume_id,
          name: cur.display_name,
          description: cur.display_description,
          createdAt: cur.created_at,
          location: { container, prefix },
          source: { path, sizeBytes },
          parent: parentLoc && cur.parent_id ? { backupId: cur.parent_id, location: parentLoc } : null,
          volumeMeta,
        },
        hooks,
      );
    const result = frozen ? await withVolumeFrozen(deps.db, cur.volume_id, copy) : await copy();
    await hooks.flush();
    const finished = await deps.db.transaction().execute(async (trx) => {
      const done = await transitionBackup(trx, cur.id, BACKUP_TRANSITIONS.finishBackup.from, {
        status: 'available',
        object_count: result.objectCount,
        stored_bytes: Math.max(1, result.storedBytes),
        progress_bytes_done: sizeBytes,
        progress_updated_at: dbNow(),
      });
      if (!done) return undefined;
      if (done.parent_id) await adjustDependents(trx, done.parent_id, 1);
      await releaseBackupSource(trx, done, true);
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
    const failed = await transitionBackup(deps.db, row.id, BACKUP_TRANSITIONS.finishBackup.from, {
      status: 'error',
      fail_reason: reasonOf(err),
    });
    if (failed) await releaseBackupSource(deps.db, failed, false);
    else await settleCancelled(deps, row); // force-deleted or reset while failing: settle as a cancel
    await removeTemporaries(deps, row).catch((e) => ctx.log.warn({ err: e }, 'temporary snapshot not removed'));
    return { outcome: 'failed', reason: reasonOf(err) };
  }
}
