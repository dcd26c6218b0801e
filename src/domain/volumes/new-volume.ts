import type { Transaction } from 'kysely';
import type { Config } from '../../config.js';
import { replaceMetadata } from '../../db/resource-metadata.js';
import type { Database, VolumeRow } from '../../db/schema.js';
import { insertVolume } from '../../db/volumes-repository.js';
import type { RequestContext } from '../common/context.js';
import { invalid } from '../common/errors.js';
import { checkNewVolumeQuota, checkVolumeQuota } from '../common/quotas.js';
import { volumeHost } from './host.js';

/** The requested availability zone (default: ours); any other is 400, Cinder's InvalidAvailabilityZone. */
export function volumeAvailabilityZone(config: Config, requested: string | null): string {
  const az = requested ?? config.AVAILABILITY_ZONE;
  if (az !== config.AVAILABILITY_ZONE) throw invalid('input received', `Availability zone '${az}' is invalid.`);
  return az;
}

/** A volume about to be inserted by one of the ways of creating one (blank, copy, from a backup, restore). */
export interface NewVolume {
  id: string;
  name: string | null;
  description: string | null;
  sizeGb: number;
  availabilityZone: string;
  /** Replaces the new volume's metadata when given. */
  metadata?: Record<string, string>;
  snapshotId?: string | null;
  sourceVolid?: string | null;
  backupId?: string | null;
  /** Made from a bootable volume's snapshot or clone (Cinder's enable_bootable_flag). */
  bootable?: boolean;
  /**
   * `creating`, except for POST /backups/{id}/restore without volume_id, whose volume starts
   * in `restoring-backup` because the restore job fills it at once.
   */
  status?: 'creating' | 'restoring-backup';
  /**
   * How a quota failure reads: Cinder's restore API catches VolumeLimitExceeded and
   * VolumeSizeExceedsAvailableQuota and answers the bare message (`bare`); volume create lets
   * them through as "<ExceptionClass>: <message>" (`classed`, the default).
   */
  quotaMessage?: 'classed' | 'bare';
}

/**
 * The one step every way of creating a volume shares: checks the project's volume quota (its
 * lock is held until the transaction ends), inserts the detached volume row on this host (HOST_ID) and
 * sets its metadata. Must run inside the transaction that also queues the job filling the
 * volume, if any. Throws 413 overLimit.
 */
export async function insertNewVolume(trx: Transaction<Database>, config: Config, ctx: RequestContext, v: NewVolume): Promise<VolumeRow> {
  const checkQuota = v.quotaMessage === 'bare' ? checkVolumeQuota : checkNewVolumeQuota;
  await checkQuota(trx, config, ctx.projectId, v.sizeGb);
  const row = await insertVolume(trx, {
    id: v.id,
    project_id: ctx.projectId,
    user_id: ctx.userId,
    display_name: v.name,
    display_description: v.description,
    size: v.sizeGb,
    status: v.status ?? 'creating',
    attach_status: 'detached',
    availability_zone: v.availabilityZone,
    host: volumeHost(config.HOST_ID),
    snapshot_id: v.snapshotId ?? null,
    source_volid: v.sourceVolid ?? null,
    backup_id: v.backupId ?? null,
    bootable: v.bootable ?? false,
  });
  if (v.metadata) await replaceMetadata(trx, 'volume_metadata', v.id, v.metadata);
  return row;
}
