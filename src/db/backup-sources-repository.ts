import { sql } from 'kysely';
import { type Db, type Scope, looksLikeUuid } from './backups-repository.js';
import type { NewVolumeRow, SnapshotRow, SnapshotUpdate, VolumeRow, VolumeUpdate } from './schema.js';

/**
 * The volume and snapshot queries the backup flows need (status compare-and-sets around a
 * backup or restore). NOTE: kept here, small and additive, so backups do not wait on the
 * volumes module; they touch only status/previous_status and the restore-created row.
 */

/** A live volume visible in `scope`. */
export async function findVolumeForBackup(db: Db, id: string, scope: Scope): Promise<VolumeRow | undefined> {
  if (!looksLikeUuid(id)) return undefined;
  let q = db.selectFrom('volumes').selectAll().where('id', '=', id).where('deleted', '=', false);
  if (scope.projectId !== null) q = q.where('project_id', '=', scope.projectId);
  return q.executeTakeFirst();
}

/** A live snapshot visible in `scope`. */
export async function findSnapshotForBackup(db: Db, id: string, scope: Scope): Promise<SnapshotRow | undefined> {
  if (!looksLikeUuid(id)) return undefined;
  let q = db.selectFrom('snapshots').selectAll().where('id', '=', id).where('deleted', '=', false);
  if (scope.projectId !== null) q = q.where('project_id', '=', scope.projectId);
  return q.executeTakeFirst();
}

/** Volume compare-and-set on status. */
export async function transitionVolumeStatus(db: Db, id: string, from: readonly string[], changes: VolumeUpdate): Promise<VolumeRow | undefined> {
  return db
    .updateTable('volumes')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where('status', '=', sql<string>`ANY(${sql.val([...from])}::text[])`)
    .returningAll()
    .executeTakeFirst();
}

/** Snapshot compare-and-set on status. */
export async function transitionSnapshotStatus(db: Db, id: string, from: readonly string[], changes: SnapshotUpdate): Promise<SnapshotRow | undefined> {
  return db
    .updateTable('snapshots')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where('status', '=', sql<string>`ANY(${sql.val([...from])}::text[])`)
    .returningAll()
    .executeTakeFirst();
}

/** A volume's user metadata. */
export async function volumeUserMetadata(db: Db, id: string): Promise<Record<string, string>> {
  const rows = await db.selectFrom('volume_metadata').selectAll().where('volume_id', '=', id).execute();
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/** Replaces a volume's user metadata (restore applies the backup's, as Cinder does). */
export async function replaceVolumeUserMetadata(db: Db, id: string, metadata: Record<string, string>): Promise<void> {
  await db.deleteFrom('volume_metadata').where('volume_id', '=', id).execute();
  const rows = Object.entries(metadata).map(([key, value]) => ({ volume_id: id, key, value }));
  if (rows.length) await db.insertInto('volume_metadata').values(rows).execute();
}

/** Inserts the volume a restore creates (no volume_id in the request). */
export async function insertVolumeRow(db: Db, row: NewVolumeRow): Promise<VolumeRow> {
  return db.insertInto('volumes').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Sets a volume's display name/description (restored from volume_meta). */
export async function renameVolume(db: Db, id: string, name: string | null, description: string | null): Promise<void> {
  await db.updateTable('volumes').set({ display_name: name, display_description: description, updated_at: sql<Date>`now()` }).where('id', '=', id).execute();
}
