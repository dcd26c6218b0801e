import { randomUUID } from 'node:crypto';
import { enqueueJob } from '../../jobs/kinds.js';
import type { VolumeRow } from '../../db/schema.js';
import { findVolume, transitionVolume } from '../../db/volumes-repository.js';
import { GiB } from '../../volumes/volume-backend.js';
import type { RequestContext } from '../common/context.js';
import { invalid } from '../common/errors.js';
import { authorize } from '../common/policy.js';
import { checkMetadataCount } from '../common/metadata-limit.js';
import { inheritImageMetadata } from './image-metadata.js';
import { insertNewVolume, volumeAvailabilityZone } from './new-volume.js';
import { getSnapshotRow } from './snapshots.js';
import { VOLUME_CLONEABLE, VOLUME_TRANSITIONS } from './status.js';
import { type VolumeRecord, type VolumeServiceDeps, getVolumeRow, toRecords } from './read.js';

/** A parsed create body (names already merged from name/display_name); backup_id goes to domain/backups/volume-from-backup.ts. */
export interface CreateVolumeInput {
  size: number | null;
  name: string | null;
  description: string | null;
  metadata: Record<string, string>;
  availabilityZone: string | null;
  snapshotId: string | null;
  sourceVolid: string | null;
}

/**
 * The checks every POST /volumes makes first, whatever the source (the volume-from-backup
 * path runs them too): the policy, at most one of snapshot_id, source_volid, backup_id, and
 * the metadata item bound (413).
 */
export function authorizeCreateVolume(ctx: RequestContext, sources: readonly (string | null)[], metadata: Record<string, string>): void {
  authorize(ctx, 'volume:create');
  if (sources.filter((s) => s !== null).length > 1) {
    throw invalid('input received', 'Only one of snapshot_id, source_volid or backup_id may be given.');
  }
  checkMetadataCount(metadata);
}

/**
 * POST /volumes. A blank volume is made in the request (a sparse file is instant):
 * creating -> available (or error). From a snapshot or another volume, the copy is a
 * `volume_copy` job queued in the same transaction as the row. Throws 400/404.
 */
export async function createVolume(deps: VolumeServiceDeps, ctx: RequestContext, input: CreateVolumeInput): Promise<VolumeRecord> {
  authorizeCreateVolume(ctx, [input.snapshotId, input.sourceVolid], input.metadata);
  const az = volumeAvailabilityZone(deps.config, input.availabilityZone);

  let sourceSize: number | null = null;
  let bootable = false;
  if (input.snapshotId !== null) {
    const snap = await getSnapshotRow(deps.db, ctx, input.snapshotId);
    bootable = (await findVolume(deps.db, snap.volume_id, { projectId: null }))?.bootable ?? false;
    if (snap.status !== 'available') throw invalid('snapshot', "Originating snapshot status must be one of 'available' values");
    sourceSize = snap.volume_size;
    if (input.size !== null && input.size < sourceSize) {
      throw invalid(
        'input received',
        `Volume size '${input.size}'GB cannot be smaller than the snapshot size ${sourceSize}GB. They must be >= original snapshot size.`,
      );
    }
  } else if (input.sourceVolid !== null) {
    const src = await getVolumeRow(deps.db, ctx, input.sourceVolid);
    if (!(VOLUME_CLONEABLE as readonly string[]).includes(src.status)) {
      throw invalid('volume', `Unable to clone volumes that are in ${src.status} status; the source must be available or in-use.`);
    }
    sourceSize = src.size;
    bootable = src.bootable;
    if (input.size !== null && input.size < sourceSize) {
      throw invalid(
        'input received',
        `Volume size '${input.size}'GB cannot be smaller than original volume size ${sourceSize}GB. They must be >= original volume size.`,
      );
    }
  }
  const size = input.size ?? sourceSize;
  if (size === null) throw invalid('input received', "Volume size 'None' must be an integer and greater than 0");

  const id = randomUUID();
  const copying = input.snapshotId !== null || input.sourceVolid !== null;
  const row = await deps.db.transaction().execute(async (trx) => {
    const inserted = await insertNewVolume(trx, deps.config, ctx, {
      id,
      name: input.name,
      description: input.description,
      sizeGb: size,
      availabilityZone: az,
      metadata: input.metadata,
      snapshotId: input.snapshotId,
      sourceVolid: input.sourceVolid,
      bootable,
    });
    if (bootable) {
      await inheritImageMetadata(trx, id, input.snapshotId ? { snapshotId: input.snapshotId } : { volumeId: input.sourceVolid! });
    }
    if (copying) {
      const payload = input.snapshotId ? { snapshotId: input.snapshotId } : { sourceVolid: input.sourceVolid };
      await enqueueJob(trx, { kind: 'volume_copy', resourceId: id, projectId: ctx.projectId, payload, hostId: deps.config.HOST_ID });
    }
    return inserted;
  });
  if (copying) deps.wakeJobs?.();
  else await makeBlankVolume(deps, row);
  // Cinder answers with the row as accepted (status creating).
  return (await toRecords(deps.db, [row]))[0]!;
}

async function makeBlankVolume(deps: VolumeServiceDeps, row: VolumeRow): Promise<void> {
  const t = VOLUME_TRANSITIONS;
  try {
    await deps.volumes.createVolume(row.id, row.size * GiB);
  } catch {
    // As in Cinder, a failed create is a volume in `error`, not a failed request.
    await transitionVolume(deps.db, row.id, t.create_failed.from, { status: t.create_failed.to });
    return;
  }
  await transitionVolume(deps.db, row.id, t.create_done.from, { status: t.create_done.to, launched_at: new Date() });
}
