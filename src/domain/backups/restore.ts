import { randomUUID } from 'node:crypto';
import { transitionBackup } from '../../db/backups-repository.js';
import { findVolume, transitionVolume } from '../../db/volumes-repository.js';
import { enqueueJob } from '../../jobs/kinds.js';
import type { Db } from '../../db/schema.js';
import type { BackupRow, JobRow } from '../../db/schema.js';
import { BACKUP_TRANSITIONS } from './status.js';
import type { BackupApiDeps } from './deps.js';
import { getBackupFor } from './reads.js';
import { readScope } from '../common/scope.js';
import type { RequestContext } from '../common/context.js';
import { invalid, notFound } from '../common/errors.js';
import { volumeHostId } from '../volumes/host.js';
import { insertNewVolume } from '../volumes/new-volume.js';

/** What the restore job reads from its payload. */
export interface RestoreJobPayload {
  volumeId: string;
  /** The target was created for this restore (sparse, all zeros): zero regions need no writes. */
  targetIsNew: boolean;
  /** The target's file does not exist yet: the job creates it. */
  createTarget: boolean;
}

export interface RestoreResponse {
  backupId: string;
  volumeId: string;
  volumeName: string;
}

const backupNotAvailable = () => invalid('backup', 'Backup status must be available');

/**
 * POST /backups/{id}/restore. Without volume_id the request inserts a new `creating` volume of
 * the backup's size (the restore job creates its file, createTarget: true) named
 * `name` or `restore_backup_<id>`; volume_name is therefore always a string.
 */
export async function restoreBackup(
  deps: BackupApiDeps,
  ctx: RequestContext,
  id: string,
  input: { volumeId: string | null; name: string | null },
  options: { inTransaction?: (trx: Db, job: JobRow) => Promise<void> } = {},
): Promise<RestoreResponse> {
  const backup = await getBackupFor(deps, ctx, id, 'backup:restore');
  if (backup.status !== 'available') throw backupNotAvailable();
  if (input.volumeId) {
    const volume = await findVolume(deps.db, input.volumeId, readScope(ctx));
    if (!volume) throw notFound('Volume', input.volumeId);
    if (volume.status !== 'available') throw invalid('volume', 'Volume to be restored to must be available');
    if (volume.size < backup.size) {
      throw invalid('volume', `volume size ${volume.size} is too small to restore backup of size ${backup.size}.`);
    }
    await deps.db.transaction().execute(async (trx) => {
      if (
        !(await transitionBackup(trx, backup.id, BACKUP_TRANSITIONS.restore.from, { status: 'restoring', restore_volume_id: volume.id }))
      ) {
        throw backupNotAvailable();
      }
      if (!(await transitionVolume(trx, volume.id, ['available'], { status: 'restoring-backup' }))) {
        throw invalid('volume', 'Volume to be restored to must be available');
      }
      const payload: RestoreJobPayload = { volumeId: volume.id, targetIsNew: false, createTarget: false };
      const job = await enqueueJob(trx, {
        kind: 'restore',
        resourceId: backup.id,
        projectId: backup.project_id,
        payload: { ...payload },
        hostId: volumeHostId(volume),
      });
      await options.inTransaction?.(trx, job);
    });
    return { backupId: backup.id, volumeId: volume.id, volumeName: volume.display_name ?? '' };
  }

  const volumeId = randomUUID();
  const volumeName = input.name ?? `restore_backup_${backup.id}`;
  await deps.db.transaction().execute(async (trx) => {
    if (!(await transitionBackup(trx, backup.id, BACKUP_TRANSITIONS.restore.from, { status: 'restoring', restore_volume_id: volumeId }))) {
      throw backupNotAvailable();
    }
    await insertNewVolume(trx, deps.config, ctx, {
      id: volumeId,
      name: volumeName,
      description: 'auto-created_from_restore_from_backup',
      sizeGb: backup.size,
      availabilityZone: deps.config.AVAILABILITY_ZONE,
      status: 'restoring-backup',
      quotaMessage: 'bare',
    });
    const payload: RestoreJobPayload = { volumeId, targetIsNew: true, createTarget: true };
    const job = await enqueueJob(trx, {
      kind: 'restore',
      resourceId: backup.id,
      projectId: backup.project_id,
      payload: { ...payload },
      hostId: deps.config.HOST_ID,
    });
    await options.inTransaction?.(trx, job);
  });
  return { backupId: backup.id, volumeId, volumeName };
}

/**
 * For POST /volumes with backup_id (>= 3.47), step 1 (before the volume row exists): the
 * backup must be visible and available, and the requested size (GiB, or null = the backup's)
 * large enough. Returns the backup and the size to create.
 */
export async function checkBackupForNewVolume(
  deps: Pick<BackupApiDeps, 'db'>,
  ctx: RequestContext,
  backupId: string,
  sizeGb: number | null,
): Promise<{ backup: BackupRow; sizeGb: number }> {
  const backup = await getBackupFor(deps, ctx, backupId, 'backup:get');
  if (backup.status !== 'available') throw invalid('backup', "Originating backup status must be one of 'available' values");
  const size = sizeGb ?? backup.size;
  if (size < backup.size) {
    throw invalid(
      'input received',
      `Volume size ${size}GB cannot be smaller than the backup size ${backup.size}GB. It must be >= backup size.`,
    );
  }
  return { backup, sizeGb: size };
}

/**
 * Step 2, inside volume-from-backup.ts's create transaction after it inserted the volume row
 * (status `creating`): backup available -> restoring and the restore job. The job creates the
 * volume's file when it is absent, fills it, and moves the volume to `available` (or `error`).
 */
export async function startRestoreIntoNewVolume(trx: Db, backupId: string, volumeId: string, hostId: string): Promise<void> {
  if (!(await transitionBackup(trx, backupId, BACKUP_TRANSITIONS.restore.from, { status: 'restoring', restore_volume_id: volumeId }))) {
    throw invalid('backup', "Originating backup status must be one of 'available' values");
  }
  const payload: RestoreJobPayload = { volumeId, targetIsNew: true, createTarget: true };
  await enqueueJob(trx, { kind: 'restore', resourceId: backupId, payload: { ...payload }, hostId });
}
