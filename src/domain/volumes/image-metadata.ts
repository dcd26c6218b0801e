import type { Kysely } from 'kysely';
import { copyMetadata, deleteMetadataKey, mergeMetadata, metadataOf } from '../../db/resource-metadata.js';
import type { Database, Db } from '../../db/schema.js';
import type { RequestContext } from '../common/context.js';
import { DomainError, invalid } from '../common/errors.js';
import { MAX_METADATA_ITEMS, checkMetadataCount, tooManyMetadataItems } from '../common/metadata-limit.js';
import { authorize } from '../common/policy.js';
import { getVolumeRow } from './read.js';

/**
 * A volume's image (Glance) metadata, cinder/api/contrib/volume_image_metadata.py: the
 * os-set_image_metadata, os-unset_image_metadata and os-show_image_metadata actions
 * (`openstack volume set/unset --image-property`, `cinder image-metadata`,
 * `cinder image-metadata-show`). The show and detail views add `volume_image_metadata` when a
 * volume has any (volumes.views.ts). Snapshots of bootable volumes, volumes made from them or
 * cloned from bootable volumes, and backups carry it along (below, and backups/worker/volume-meta.ts).
 */

/** Cinder's GlanceMetadataNotFound (404): no image metadata, or not the asked key. */
function glanceMetadataNotFound(id: string): DomainError {
  return new DomainError('not_found', `Glance metadata for volume/snapshot ${id} cannot be found.`);
}

// Cinder's volume API refuses metadata changes in these statuses (InvalidVolume, 400).
const FROZEN = ['maintenance', 'uploading'];

/** os-show_image_metadata: the whole map; 404 GlanceMetadataNotFound when the volume has none. */
export async function showImageMetadata(db: Kysely<Database>, ctx: RequestContext, id: string): Promise<Record<string, string>> {
  const vol = await getVolumeRow(db, ctx, id);
  authorize(ctx, 'volume_extension:volume_image_metadata:show', vol.project_id);
  const meta = await metadataOf(db, 'volume_image_metadata', id);
  if (Object.keys(meta).length === 0) throw glanceMetadataNotFound(id);
  return meta;
}

/**
 * os-set_image_metadata: merges the pairs (set or overwrite) and returns the whole map. 400 in
 * maintenance or uploading; 413 past MAX_METADATA_ITEMS items (our bound, L11; nothing written).
 */
export async function setImageMetadata(
  db: Kysely<Database>,
  ctx: RequestContext,
  id: string,
  pairs: Record<string, string>,
): Promise<Record<string, string>> {
  const vol = await getVolumeRow(db, ctx, id);
  authorize(ctx, 'volume_extension:volume_image_metadata:set', vol.project_id);
  if (FROZEN.includes(vol.status)) {
    throw invalid('volume', `Updating volume metadata is not allowed for volumes in ${vol.status} status.`);
  }
  checkMetadataCount(pairs);
  return db.transaction().execute(async (trx) => {
    await mergeMetadata(trx, 'volume_image_metadata', id, pairs);
    const all = await metadataOf(trx, 'volume_image_metadata', id);
    if (Object.keys(all).length > MAX_METADATA_ITEMS) throw tooManyMetadataItems();
    return all;
  });
}

/** os-unset_image_metadata: removes one key; 404 GlanceMetadataNotFound when it is not there, 400 in maintenance or uploading. */
export async function unsetImageMetadata(db: Kysely<Database>, ctx: RequestContext, id: string, key: string): Promise<void> {
  const vol = await getVolumeRow(db, ctx, id);
  authorize(ctx, 'volume_extension:volume_image_metadata:remove', vol.project_id);
  const meta = await metadataOf(db, 'volume_image_metadata', id);
  if (!Object.hasOwn(meta, key)) throw glanceMetadataNotFound(id);
  if (FROZEN.includes(vol.status)) {
    throw invalid('volume', `Deleting volume metadata is not allowed for volumes in ${vol.status} status.`);
  }
  if (!(await deleteMetadataKey(db, 'volume_image_metadata', id, key))) throw glanceMetadataNotFound(id);
}

/**
 * Cinder's create_snapshot: a snapshot of a bootable volume keeps a copy of the volume's image
 * metadata, for the volumes made from it. Runs in the snapshot's insert transaction.
 */
export async function keepImageMetadataInSnapshot(trx: Db, volume: { id: string; bootable: boolean }, snapshotId: string): Promise<void> {
  if (!volume.bootable) return;
  await copyMetadata(trx, { table: 'volume_image_metadata', id: volume.id }, { table: 'snapshot_image_metadata', id: snapshotId });
}

/**
 * Cinder's _handle_bootable_volume_glance_meta: a volume made from a snapshot of a bootable
 * volume, or cloned from a bootable volume, copies the source's image metadata (the caller
 * inserted it bootable). Runs in the new volume's insert transaction.
 */
export async function inheritImageMetadata(
  trx: Db,
  volumeId: string,
  source: { snapshotId: string } | { volumeId: string },
): Promise<void> {
  const from =
    'snapshotId' in source
      ? { table: 'snapshot_image_metadata' as const, id: source.snapshotId }
      : { table: 'volume_image_metadata' as const, id: source.volumeId };
  await copyMetadata(trx, from, { table: 'volume_image_metadata', id: volumeId });
}
