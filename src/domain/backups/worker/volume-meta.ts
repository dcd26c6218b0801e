import type { Kysely } from 'kysely';
import { replaceMetadata } from '../../../db/resource-metadata.js';
import type { Database } from '../../../db/schema.js';
import { findVolume, updateVolumeFields } from '../../../db/volumes-repository.js';
import { BackupJobFailure } from './failure.js';

/**
 * The `volume_meta` field of Cinder's _metadata: written by the backup job (volumeMetaString),
 * read back by the restore job (applyVolumeMeta).
 */

/** Cinder's volume_meta container (version 2) as the JSON string stored in _metadata. */
export function volumeMetaString(
  volume: {
    id: string;
    display_name: string | null;
    display_description: string | null;
    size: number;
    availability_zone: string;
    bootable: boolean;
  },
  userMeta: Record<string, string>,
  imageMeta: Record<string, string> = {},
): string {
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
  if (Object.keys(imageMeta).length) meta['volume-glance-metadata'] = imageMeta;
  return JSON.stringify(meta);
}

/**
 * Applies a backup's volume_meta to the restored volume as Cinder's restore does: user metadata
 * replaces the target's; image (Glance) metadata, when the backup has any, replaces the target's
 * and makes it bootable (_restore_vol_glance_meta); name and description only when the target is
 * unnamed or auto-named.
 */
export async function applyVolumeMeta(db: Kysely<Database>, volumeId: string, volumeMeta: string | null): Promise<void> {
  if (!volumeMeta) return;
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(volumeMeta) as Record<string, unknown>;
  } catch {
    throw new BackupJobFailure('Metadata restore failed due to incompatible version.');
  }
  if (meta.version !== 1 && meta.version !== 2) throw new BackupJobFailure('Metadata restore failed due to incompatible version.');
  const user = meta['volume-metadata'];
  if (user && typeof user === 'object') {
    const entries = Object.entries(user as Record<string, unknown>).map(([k, v]) => [k, String(v)] as const);
    await db.transaction().execute((trx) => replaceMetadata(trx, 'volume_metadata', volumeId, Object.fromEntries(entries)));
  }
  const glance = meta['volume-glance-metadata'];
  if (glance && typeof glance === 'object') {
    const entries = Object.entries(glance as Record<string, unknown>).map(([k, v]) => [k, String(v)] as const);
    await db.transaction().execute(async (trx) => {
      await replaceMetadata(trx, 'volume_image_metadata', volumeId, Object.fromEntries(entries));
      await updateVolumeFields(trx, volumeId, { bootable: true });
    });
  }
  const base = meta['volume-base-metadata'] as Record<string, unknown> | undefined;
  const target = await findVolume(db, volumeId, { projectId: null });
  if (base && target && (!target.display_name || target.display_name.startsWith('restore_backup_'))) {
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    await updateVolumeFields(db, volumeId, {
      display_name: str(base.display_name) ?? target.display_name,
      display_description: str(base.display_description) ?? target.display_description,
    });
  }
}
