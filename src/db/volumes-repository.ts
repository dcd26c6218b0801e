import { type Insertable, type Selectable, type Transaction, sql } from 'kysely';
import { type Scope, isUuid } from './scope.js';
import type { ListParams } from './paginate.js';
import { applyFilters, paginate } from './paginate.js';
import { hasMetadata } from './resource-metadata.js';
import type { Database, Db, NewVolumeRow, VolumeRow, VolumeUpdate } from './schema.js';

/**
 * Timestamps written with millisecond precision. NOTE: keyset pagination passes the
 * marker row's timestamps back as JS Dates (milliseconds); a microsecond value from
 * now() would then compare greater than itself and the marker would repeat.
 */
export function msNow(): Date {
  return new Date();
}

export type AttachmentRow = Selectable<Database['volume_attachments']>;

/** A live (not deleted) volume visible in `scope`, or undefined. */
export async function findVolume(db: Db, id: string, scope: Scope): Promise<VolumeRow | undefined> {
  if (!isUuid(id)) return undefined; // never let a malformed id reach a uuid cast
  let q = db.selectFrom('volumes').selectAll().where('id', '=', id).where('deleted', '=', false);
  if (scope.projectId !== null) q = q.where('project_id', '=', scope.projectId);
  return q.executeTakeFirst();
}

export async function insertVolume(db: Db, row: NewVolumeRow): Promise<VolumeRow> {
  return db
    .insertInto('volumes')
    .values({ created_at: msNow(), ...row })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The compare-and-set every volume status change goes through:
 * `UPDATE volumes SET ... WHERE id = $1 AND status = ANY($from) AND NOT deleted RETURNING *`.
 * undefined = the row was not in an allowed status (or is gone): the caller reports it.
 */
export async function transitionVolume(db: Db, id: string, from: readonly string[], set: VolumeUpdate): Promise<VolumeRow | undefined> {
  return db
    .updateTable('volumes')
    .set({ ...set, updated_at: msNow() })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where(sql<boolean>`status = ANY(${sql.val([...from])}::text[])`)
    .returningAll()
    .executeTakeFirst();
}

/**
 * The delete CAS: status in `from`, not attached, and (unless `withSnapshots`) no live
 * snapshot, all in the one UPDATE so a concurrent attach or snapshot cannot slip in.
 */
export async function transitionVolumeToDeleting(
  db: Db,
  id: string,
  from: readonly string[],
  withSnapshots: boolean,
): Promise<VolumeRow | undefined> {
  let q = db
    .updateTable('volumes')
    .set({ status: 'deleting', previous_status: sql<string>`status`, updated_at: msNow() })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where('attach_status', '!=', 'attached')
    .where(sql<boolean>`status = ANY(${sql.val([...from])}::text[])`);
  if (!withSnapshots) {
    q = q.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('snapshots')
            .select('snapshots.id')
            .whereRef('snapshots.volume_id', '=', 'volumes.id')
            .where('snapshots.deleted', '=', false),
        ),
      ),
    );
  }
  return q.returningAll().executeTakeFirst();
}

/** Updates non-status fields (name, description, readonly flag) of a live volume. */
export async function updateVolumeFields(db: Db, id: string, set: VolumeUpdate): Promise<VolumeRow | undefined> {
  return db
    .updateTable('volumes')
    .set({ ...set, updated_at: msNow() })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .returningAll()
    .executeTakeFirst();
}

/** Soft-deletes a volume that is `deleting` (the last step of a delete). */
export async function softDeleteVolume(db: Db, id: string): Promise<boolean> {
  const row = await transitionVolume(db, id, ['deleting'], { deleted: true, deleted_at: msNow(), status: 'deleted' });
  // A deleted volume leaves its CBR vault (its backups stay, as Cinder keeps them).
  if (row) await db.deleteFrom('cbr_vault_resources').where('volume_id', '=', id).execute();
  return row !== undefined;
}

const VOLUME_NULLABLE_TEXT = ['display_name', 'display_description', 'snapshot_id', 'source_volid'];

/** One page of volumes for a parsed list request, plus the total when with_count asked for it. */
export async function listVolumes(
  db: Db,
  params: ListParams,
  scope: Scope,
  marker: VolumeRow | null,
  metadataFilter: Record<string, string> | null,
): Promise<{ rows: VolumeRow[]; total: number | null }> {
  let base = db.selectFrom('volumes').where('deleted', '=', false);
  if (scope.projectId !== null) base = base.where('project_id', '=', scope.projectId);
  if (metadataFilter) base = base.where(hasMetadata('volume_metadata', 'volumes.id', metadataFilter));
  const rows = await paginate(base.selectAll(), params, marker && { table: 'volumes', row: marker }, VOLUME_NULLABLE_TEXT).execute();
  let total: number | null = null;
  if (params.withCount) {
    const r = await applyFilters(
      base.select((eb) => eb.fn.countAll<number>().as('n')),
      params,
    ).executeTakeFirstOrThrow();
    total = Number(r.n);
  }
  return { rows, total };
}

/** Live snapshots of a volume (they block its deletion unless cascade). */
export async function liveSnapshotsOf(db: Db, volumeId: string): Promise<Array<{ id: string; status: string }>> {
  return db.selectFrom('snapshots').select(['id', 'status']).where('volume_id', '=', volumeId).where('deleted', '=', false).execute();
}

/** Attached (not detached) attachments of many volumes. */
export async function attachmentsFor(db: Db, volumeIds: readonly string[]): Promise<Map<string, AttachmentRow[]>> {
  const out = new Map<string, AttachmentRow[]>(volumeIds.map((id) => [id, []]));
  if (volumeIds.length === 0) return out;
  const rows = await db
    .selectFrom('volume_attachments')
    .selectAll()
    .where('volume_id', 'in', [...volumeIds])
    .where('deleted', '=', false)
    .orderBy('attached_at')
    .execute();
  for (const r of rows) out.get(r.volume_id)?.push(r);
  return out;
}

export async function insertAttachment(db: Db, row: Insertable<Database['volume_attachments']>): Promise<void> {
  await db.insertInto('volume_attachments').values(row).execute();
}

/** Marks a volume's attachments (or one of them) detached; returns how many changed. */
export async function detachAttachments(db: Db, volumeId: string, attachmentId?: string): Promise<number> {
  let q = db
    .updateTable('volume_attachments')
    .set({ deleted: true, detached_at: msNow() })
    .where('volume_id', '=', volumeId)
    .where('deleted', '=', false);
  if (attachmentId) q = q.where('id', '=', attachmentId);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/**
 * A live volume's status, read FOR SHARE: a concurrent UPDATE of the row (a delete's CAS)
 * waits until the transaction ends. undefined when the volume is gone.
 */
export async function shareLockVolumeStatus(trx: Transaction<Database>, id: string): Promise<string | undefined> {
  const row = await trx
    .selectFrom('volumes')
    .select('status')
    .where('id', '=', id)
    .where('deleted', '=', false)
    .forShare()
    .executeTakeFirst();
  return row?.status;
}
