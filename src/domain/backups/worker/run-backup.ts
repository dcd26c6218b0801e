import { dbNow } from '../../../db/sql-values.js';
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { forgetStoredObjects, storedObjectsOf } from '../../../db/backup-stored-objects-repository.js';
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
import { type BackupRequest, OperationCancelledError } from '../../../engine/engine-api.js';
import type { JobContext, JobFailure } from '../../../jobs/worker.js';
import { GiB } from '../../../volumes/volume-backend.js';
import { withVolumeFrozen } from '../../volumes/fence.js';
import { BACKUP_TRANSITIONS } from '../status.js';
import { backupWithChangeMap } from './change-map.js';
import { BACKUP_HOST, type BackupManagerDeps, locationOf } from './deps.js';
import { BackupJobFailure, reasonOf } from './failure.js';
import { progressHooks } from './progress-hooks.js';
import { RESTART_FAIL_REASON, failIncompleteBackup } from './recovery.js';
import { storedObjectRecorder } from './stored-objects.js';
import { completeDelete, releaseBackupSource, removeTemporaries } from './settle.js';
import { volumeMetaString } from './volume-meta.js';

/** Thrown when an interrupted backup cannot resume: it is then reset as Cinder's restart does. */
class CannotResume extends Error {}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Picks the file to read: the snapshot, a temporary snapshot of an in-use volume, or the
 * volume itself (`frozen`: read under the volume's fence, so no data write lands mid-backup).
 * `resuming`: objects were stored from an earlier run's source, which must be read again (a
 * new temporary snapshot would hold other bytes); throws CannotResume when it is gone.
 */
async function prepareSource(deps: BackupManagerDeps, row: BackupRow, resuming: boolean): Promise<{ path: string; frozen: boolean }> {
  if (row.snapshot_id) {
    const path = deps.volumes.snapshotPath(row.snapshot_id);
    if (resuming && !(await exists(path))) throw new CannotResume('the source snapshot is gone');
    return { path, frozen: false };
  }
  const volume = await findVolume(deps.db, row.volume_id, { projectId: null });
  if (!volume || volume.status !== 'backing-up') {
    if (resuming) throw new CannotResume(`volume ${row.volume_id} is no longer backing-up`);
    throw new BackupJobFailure(`Volume ${row.volume_id} is not backing-up.`);
  }
  if (volume.previous_status !== 'in-use') return { path: deps.volumes.volumePath(row.volume_id), frozen: true };
  if (row.temp_snapshot_id) {
    const path = deps.volumes.snapshotPath(row.temp_snapshot_id);
    if (resuming) {
      if (!(await exists(path))) throw new CannotResume('the temporary snapshot of the in-use volume is gone');
      return { path, frozen: false };
    }
    // Interrupted before its first object: the snapshot may be incomplete, take it again.
    await deps.volumes.deleteSnapshot(row.temp_snapshot_id);
  }
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
 * Run again after an interruption (a stop, a crash, a lost lease), it resumes: same prefix and
 * source, and the objects recorded as stored (stored-objects.ts) are kept, not uploaded again.
 * Where that is impossible (CannotResume) the backup is reset by the recovery table.
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
  const recorder = storedObjectRecorder(deps.db, row.id, ctx.log);
  const earlier = locationOf(row); // set by an interrupted run: resume under its prefix
  try {
    if (row.availability_zone !== deps.config.AVAILABILITY_ZONE) throw new BackupJobFailure('Service not found for creating backup.');
    const { path, frozen } = await prepareSource(deps, row, earlier !== null);
    const container = earlier?.container ?? row.container ?? deps.store.defaultContainer;
    const prefix = earlier?.prefix ?? objectPrefix(row.volume_id, deps.config.AVAILABILITY_ZONE, row.id, new Date());
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
    const volumeMeta = volume
      ? volumeMetaString(
          volume,
          await metadataOf(deps.db, 'volume_metadata', volume.id),
          await metadataOf(deps.db, 'volume_image_metadata', volume.id),
        )
      : null;
    const sizeBytes = cur.size * GiB;
    const resume = earlier ? await storedObjectsOf(deps.db, cur.id) : undefined;
    if (resume) ctx.log.info({ prefix, objects_stored: resume.size }, 'backup resuming');
    await startProgress(deps.db, cur.id, 'backup', sizeBytes, { jobId: job.id, attempt: job.attempts });
    const req: BackupRequest = {
      backupId: cur.id,
      volumeId: cur.volume_id,
      name: cur.display_name,
      description: cur.display_description,
      createdAt: cur.created_at,
      location: { container, prefix },
      source: { path, sizeBytes },
      parent: parentLoc && cur.parent_id ? { backupId: cur.parent_id, location: parentLoc } : null,
      volumeMeta,
      ...(resume ? { resume } : {}),
    };
    const copy = (r: BackupRequest) => deps.engine.backup(deps.store, r, { ...hooks, onObjectStored: recorder.onObjectStored });
    // The volume file itself, fenced: changed-block tracking may spare the incremental a full read.
    const result = frozen
      ? await withVolumeFrozen(deps.db, cur.volume_id, () => backupWithChangeMap(deps, ctx.log, req, copy))
      : await copy(req);
    await hooks.flush();
    await recorder.flush();
    ctx.log.info(
      {
        objects: result.objectCount,
        reused_objects: result.reusedObjects,
        uploaded_bytes: result.storedBytes - result.reusedBytes,
        reused_bytes: result.reusedBytes,
      },
      'backup data stored',
    );
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
      await forgetStoredObjects(trx, done.id);
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
    await recorder.flush();
    if (ctx.signal.aborted) throw err; // stopped or lease lost: the next run resumes
    if (err instanceof OperationCancelledError) return settleCancelled(deps, row);
    if (err instanceof CannotResume) {
      ctx.log.warn({ why: err.message }, 'backup cannot resume; reset as on a restart');
      await failIncompleteBackup(deps, row);
      return { outcome: 'failed', reason: `${RESTART_FAIL_REASON}: ${err.message}` };
    }
    const failed = await transitionBackup(deps.db, row.id, BACKUP_TRANSITIONS.finishBackup.from, {
      status: 'error',
      fail_reason: reasonOf(err),
    });
    if (failed) await releaseBackupSource(deps.db, failed, false);
    else await settleCancelled(deps, row); // force-deleted or reset while failing: settle as a cancel
    await removeTemporaries(deps, row).catch((e) => ctx.log.warn({ err: e }, 'temporary snapshot not removed'));
    await forgetStoredObjects(deps.db, row.id);
    return { outcome: 'failed', reason: reasonOf(err) };
  }
}
