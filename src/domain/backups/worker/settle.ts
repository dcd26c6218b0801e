/**
 * Settling a backup job's side effects: giving the source volume or snapshot back, removing
 * temporaries, and finishing a delete (objects, then row and parent counter).
 */
import { previousStatusOrAvailable } from '../../../db/sql-values.js';
import { liveOwnersOfPrefix } from '../../../db/backup-prefixes-repository.js';
import { forgetStoredObjects } from '../../../db/backup-stored-objects-repository.js';
import { adjustDependents, softDeleteBackup, transitionBackup, updateBackupFields } from '../../../db/backups-repository.js';
import type { BackupRow, Db } from '../../../db/schema.js';
import { transitionSnapshot } from '../../../db/snapshots-repository.js';
import { transitionVolume } from '../../../db/volumes-repository.js';
import { BACKUP_TRANSITIONS } from '../status.js';
import { type BackupManagerDeps, locationOf } from './deps.js';
import { reasonOf } from './failure.js';

/**
 * Gives the backup's source back: volume backing-up -> previous status (previous_status
 * becomes backing-up, or error_backing-up after a failure), or snapshot backing-up -> available.
 */
export async function releaseBackupSource(db: Db, row: BackupRow, ok: boolean): Promise<void> {
  if (row.snapshot_id) {
    await transitionSnapshot(db, row.snapshot_id, ['backing-up'], { status: 'available' });
    return;
  }
  await transitionVolume(db, row.volume_id, ['backing-up'], {
    status: previousStatusOrAvailable(),
    previous_status: ok ? 'backing-up' : 'error_backing-up',
  });
}

/** Removes a temporary snapshot a forced backup made, and forgets it on the row. */
export async function removeTemporaries(deps: BackupManagerDeps, row: BackupRow): Promise<void> {
  if (row.temp_snapshot_id) {
    await deps.volumes.deleteSnapshot(row.temp_snapshot_id);
    await updateBackupFields(deps.db, row.id, { temp_snapshot_id: null });
  }
  if (row.temp_volume_id) {
    await deps.volumes.deleteVolume(row.temp_volume_id);
    await updateBackupFields(deps.db, row.id, { temp_volume_id: null });
  }
}

/**
 * Ends a delete: objects removed (absent ones are fine), then the row soft-deleted and the
 * parent's counter decremented in one transaction. A driver error leaves the backup `error`.
 * NOTE: only children that completed were counted (stored_bytes > 0 marks completion).
 */
export async function completeDelete(deps: BackupManagerDeps, row: BackupRow): Promise<void> {
  const loc = locationOf(row);
  try {
    // An imported twin may share the objects (same container and prefix): they stay while one lives.
    const shared = loc ? (await liveOwnersOfPrefix(deps.db, loc.container, loc.prefix, row.id)).length > 0 : false;
    if (loc && !shared) await deps.engine.deleteBackup(deps.store, loc);
    await removeTemporaries(deps, row);
  } catch (err) {
    await transitionBackup(deps.db, row.id, BACKUP_TRANSITIONS.finishDelete.from, { status: 'error', fail_reason: reasonOf(err) });
    return;
  }
  await deps.db.transaction().execute(async (trx) => {
    const gone = await softDeleteBackup(trx, row.id);
    await forgetStoredObjects(trx, row.id); // a backup deleted while it ran: nothing resumes it
    if (gone?.parent_id && gone.stored_bytes > 0) await adjustDependents(trx, gone.parent_id, -1);
  });
}
