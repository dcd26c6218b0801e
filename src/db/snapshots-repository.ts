import { sql } from 'kysely';
import type { ListParams } from './paginate.js';
import { applyFilters, paginate } from './paginate.js';
import { hasMetadata } from './resource-metadata.js';
import type { Db, NewSnapshotRow, SnapshotRow, SnapshotUpdate } from './schema.js';
import { type Scope, isUuid } from './scope.js';
import { msNow } from './volumes-repository.js';

/** A live (not soft-deleted) snapshot visible in `scope`, or undefined. */
export async function findSnapshot(db: Db, id: string, scope: Scope): Promise<SnapshotRow | undefined> {
  if (!isUuid(id)) return undefined; // never let a malformed id reach a uuid cast
  let q = db.selectFrom('snapshots').selectAll().where('id', '=', id).where('deleted', '=', false);
  if (scope.projectId !== null) q = q.where('project_id', '=', scope.projectId);
  return q.executeTakeFirst();
}

export async function insertSnapshot(db: Db, row: NewSnapshotRow): Promise<SnapshotRow> {
  return db
    .insertInto('snapshots')
    .values({ created_at: msNow(), ...row })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The compare-and-set every snapshot status change goes through:
 * `UPDATE snapshots SET ... WHERE id = $1 AND status = ANY($from) AND NOT deleted RETURNING *`.
 */
export async function transitionSnapshot(
  db: Db,
  id: string,
  from: readonly string[],
  set: SnapshotUpdate,
): Promise<SnapshotRow | undefined> {
  return db
    .updateTable('snapshots')
    .set({ ...set, updated_at: msNow() })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where(sql<boolean>`status = ANY(${sql.val([...from])}::text[])`)
    .returningAll()
    .executeTakeFirst();
}

/** Progress of a running copy; only while the snapshot is still `creating`. */
export async function setSnapshotProgress(db: Db, id: string, progress: string): Promise<boolean> {
  return (await transitionSnapshot(db, id, ['creating'], { progress })) !== undefined;
}

/** Name/description of a live snapshot (no status condition, as Cinder). */
export async function updateSnapshotFields(db: Db, id: string, set: SnapshotUpdate): Promise<SnapshotRow | undefined> {
  return db
    .updateTable('snapshots')
    .set({ ...set, updated_at: msNow() })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .returningAll()
    .executeTakeFirst();
}

/** Soft-deletes a `deleting` snapshot (its delete job is done). */
export async function softDeleteSnapshot(db: Db, id: string): Promise<boolean> {
  const row = await transitionSnapshot(db, id, ['deleting'], { status: 'deleted', deleted: true, deleted_at: msNow() });
  return row !== undefined;
}

/** Marks a volume's `available`/`error` snapshots `deleting` (cascade delete); returns their ids. */
export async function markSnapshotsDeleting(db: Db, volumeId: string): Promise<string[]> {
  const rows = await db
    .updateTable('snapshots')
    .set({ status: 'deleting', updated_at: msNow() })
    .where('volume_id', '=', volumeId)
    .where('deleted', '=', false)
    .where('status', 'in', ['available', 'error'])
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

const SNAPSHOT_NULLABLE_TEXT = ['display_name', 'display_description'];

/** One page of snapshots for a parsed list request, plus the total when with_count asked for it. */
export async function listSnapshots(
  db: Db,
  params: ListParams,
  scope: Scope,
  marker: SnapshotRow | null,
  metadataFilter: Record<string, string> | null,
): Promise<{ rows: SnapshotRow[]; total: number | null }> {
  let base = db.selectFrom('snapshots').where('deleted', '=', false);
  if (scope.projectId !== null) base = base.where('project_id', '=', scope.projectId);
  if (metadataFilter) base = base.where(hasMetadata('snapshot_metadata', 'snapshots.id', metadataFilter));
  const rows = await paginate(base.selectAll(), params, marker && { table: 'snapshots', row: marker }, SNAPSHOT_NULLABLE_TEXT).execute();
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
