import { randomUUID } from 'node:crypto';
import { checkBackupForNewVolume, startRestoreIntoNewVolume } from './restore.js';
import type { RequestContext } from '../common/context.js';
import { type CreateVolumeInput, authorizeCreateVolume } from '../volumes/create.js';
import { insertNewVolume, volumeAvailabilityZone } from '../volumes/new-volume.js';
import { type VolumeRecord, type VolumeServiceDeps, toRecords } from '../volumes/read.js';

/**
 * POST /volumes with backup_id (>= 3.47; the route sends it here, not to domain/volumes): the backup must be available and the size (default:
 * the backup's) at least the backup's; the volume row (`creating`), the backup `restoring` and
 * the restore job are one transaction. The job makes the sparse file, restores into it
 * (targetIsNew) and moves the volume to `available`, or `error` on failure.
 */
export async function createVolumeFromBackup(
  deps: VolumeServiceDeps,
  ctx: RequestContext,
  input: CreateVolumeInput & { backupId: string },
): Promise<VolumeRecord> {
  authorizeCreateVolume(ctx, [input.snapshotId, input.sourceVolid, input.backupId], input.metadata);
  const { backup, sizeGb } = await checkBackupForNewVolume(deps, ctx, input.backupId, input.size);
  const az = volumeAvailabilityZone(deps.config, input.availabilityZone);
  const id = randomUUID();
  const row = await deps.db.transaction().execute(async (trx) => {
    const inserted = await insertNewVolume(trx, deps.config, ctx, {
      id,
      name: input.name,
      description: input.description,
      sizeGb,
      availabilityZone: az,
      metadata: input.metadata,
      backupId: backup.id,
    });
    await startRestoreIntoNewVolume(trx, backup.id, id, deps.config.HOST_ID);
    return inserted;
  });
  deps.wakeJobs?.();
  return (await toRecords(deps.db, [row]))[0]!;
}
