import { hostname } from 'node:os';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../../../config.js';
import { adjustDependents, saveProgress, softDeleteBackup, transitionBackup, updateBackupFields } from '../../../db/backups-repository.js';
import { transitionSnapshot } from '../../../db/snapshots-repository.js';
import { transitionVolume } from '../../../db/volumes-repository.js';
import type { BackupRow, Database, Db } from '../../../db/schema.js';
import type { BackupEngine, BackupLocation, ProgressHooks } from '../../../engine/engine-api.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import type { VolumeBackend } from '../../../volumes/volume-backend.js';
import { BACKUP_TRANSITIONS, failReason } from '../status.js';

/** What the backup manager (job handlers, recovery) is built from. */
export interface BackupManagerDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  engine: BackupEngine;
  volumes: VolumeBackend;
  config: Config;
}

/** The host name recorded on backups this process works on (Cinder's `host`). */
export const BACKUP_HOST = `${hostname()}@backup`;

/** The Cinder object-name prefix: volume_<vol>/<UTC YYYYmmddHHMMSS>/az_<az>_backup_<id>. */
export function objectPrefix(volumeId: string, az: string, backupId: string, at: Date): string {
  const ts = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `volume_${volumeId}/${ts}/az_${az}_backup_${backupId}`;
}

/** Where a backup's objects are, or null when it never reached the store. */
export function locationOf(row: Pick<BackupRow, 'container' | 'service_metadata'>): BackupLocation | null {
  return row.container && row.service_metadata ? { container: row.container, prefix: row.service_metadata } : null;
}

/** An error whose message is meant for fail_reason as is. */
export class BackupJobFailure extends Error {
  override name = 'BackupJobFailure';
}

/** A message fit for fail_reason from any error. */
export function reasonOf(err: unknown): string {
  return failReason(err instanceof Error ? err.message : String(err));
}

/**
 * Progress hooks persisting the counters at most once per `intervalMs` (writes are chained,
 * never overlapping) and asking `stillWanted()` between chunks.
 */
export function progressHooks(
  db: Kysely<Database>,
  backupId: string,
  log: Logger,
  stillWanted: () => Promise<boolean>,
  intervalMs = 1000,
): ProgressHooks & { flush(): Promise<void> } {
  let last = 0;
  let pending: Promise<void> = Promise.resolve();
  return {
    onProgress(done, total) {
      const now = Date.now();
      if (now - last < intervalMs) return;
      last = now;
      pending = pending.then(() => saveProgress(db, backupId, done, total)).catch((err) => log.warn({ err }, 'progress not saved'));
    },
    async shouldCancel() {
      return !(await stillWanted());
    },
    flush: () => pending,
  };
}

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
    status: sql<string>`coalesce(previous_status, 'available')` as unknown as string,
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
    if (loc) await deps.engine.deleteBackup(deps.store, loc);
    await removeTemporaries(deps, row);
  } catch (err) {
    await transitionBackup(deps.db, row.id, BACKUP_TRANSITIONS.finishDelete.from, { status: 'error', fail_reason: reasonOf(err) });
    return;
  }
  await deps.db.transaction().execute(async (trx) => {
    const gone = await softDeleteBackup(trx, row.id);
    if (gone?.parent_id && gone.stored_bytes > 0) await adjustDependents(trx, gone.parent_id, -1);
  });
}

/** Cinder's volume_meta container (version 2) as the JSON string stored in _metadata. */
export function volumeMetaString(volume: { id: string; display_name: string | null; display_description: string | null; size: number; availability_zone: string; bootable: boolean }, userMeta: Record<string, string>): string {
  const meta: Record<string, unknown> = {
    version: 2,
    'volume-base-metadata': {
      id: volume.id,
      display_name: volume.display_name,
      display_description: volume.display_description,
      size: volume.size,
      availability_zone: volume.availability_zone,
      bootable: volume.bootable,
      encryption_key_id: null,
    },
  };
  if (Object.keys(userMeta).length) meta['volume-metadata'] = userMeta;
  return JSON.stringify(meta);
}

