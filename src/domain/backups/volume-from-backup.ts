import { randomUUID } from 'node:crypto';
import { replaceMetadata } from '../../db/resource-metadata.js';
import { insertVolume } from '../../db/volumes-repository.js';
import { checkBackupForNewVolume, startRestoreIntoNewVolume } from './restore.js';
import type { RequestContext } from '../common/context.js';
import { invalid } from '../common/errors.js';
import { checkNewVolumeQuota } from '../common/quotas.js';
import type { CreateVolumeInput } from '../volumes/create.js';
import { VOLUME_HOST } from '../volumes/create.js';
import { type VolumeRecord, type VolumeServiceDeps, toRecords } from '../volumes/read.js';

/**
 * POST /volumes with backup_id (>= 3.47): the backup must be available and the size (default:
 * the backup's) at least the backup's; the volume row (`creating`), the backup `restoring` and
 * the restore job are one transaction. The job makes the sparse file, restores into it
 * (targetIsNew) and moves the volume to `available`, or `error` on failure.
 */
export async function createVolumeFromBackupImpl(
  deps: VolumeServiceDeps,
  ctx: RequestContext,
  input: CreateVolumeInput,
): Promise<VolumeRecord> {
  const { backup, sizeGb } = await checkBackupForNewVolume(deps, ctx, input.backupId!, input.size);
  const az = input.availabilityZone ?? deps.config.AVAILABILITY_ZONE;
  if (az !== deps.config.AVAILABILITY_ZONE) throw invalid('input received', `Availability zone '${az}' is invalid.`);
  const id = randomUUID();
  const row = await deps.db.transaction().execute(async (trx) => {
    await checkNewVolumeQuota(trx, deps.config, ctx.projectId, sizeGb);
    const inserted = await insertVolume(trx, {
      id,
      project_id: ctx.projectId,
      user_id: ctx.userId,
      display_name: input.name,
      display_description: input.description,
      size: sizeGb,
      status: 'creating',
      attach_status: 'detached',
      availability_zone: az,
      host: VOLUME_HOST,
      snapshot_id: null,
      source_volid: null,
      backup_id: backup.id,
    });
    await replaceMetadata(trx, 'volume_metadata', id, input.metadata);
    await startRestoreIntoNewVolume(trx, backup.id, id);
    return inserted;
  });
  deps.wakeJobs?.();
  return (await toRecords(deps.db, [row]))[0]!;
}
