import type { Db, NewTroveBackupRow, TroveBackupRow } from './schema.js';
import { isUuid } from './scope.js';

export const TROVE_RUNNING = ['NEW', 'BUILDING'] as const;

export async function insertTroveBackup(db: Db, row: NewTroveBackupRow): Promise<TroveBackupRow> {
  return db.insertInto('trove_backups').values(row).returningAll().executeTakeFirstOrThrow();
}

/** A live backup by id; `projectId` null: any project (admin, internal). */
export async function findTroveBackup(db: Db, id: string, projectId: string | null): Promise<TroveBackupRow | undefined> {
  let q = db.selectFrom('trove_backups').selectAll().where('id', '=', id).where('deleted', '=', false);
  if (projectId !== null) q = q.where('project_id', '=', projectId);
  return q.executeTakeFirst();
}

/** Live backups of a project by exact name (the clients resolve names through a 404 then the list). */
export async function findTroveBackupsByName(db: Db, name: string, projectId: string): Promise<TroveBackupRow[]> {
  return db
    .selectFrom('trove_backups')
    .selectAll()
    .where('name', '=', name)
    .where('project_id', '=', projectId)
    .where('deleted', '=', false)
    .execute();
}

export interface TroveBackupFilter {
  projectId: string | null; // null: all projects
  instanceId?: string;
  limit: number;
  offset: number;
}

/**
 * Newest first (updated, then id for a stable order), Trove's offset paging. An instance id
 * that is no UUID matches no backup (Trove compares strings; our column is uuid, which would
 * reject the comparison).
 */
export async function listTroveBackups(db: Db, f: TroveBackupFilter): Promise<TroveBackupRow[]> {
  if (f.instanceId !== undefined && !isUuid(f.instanceId)) return [];
  let q = db.selectFrom('trove_backups').selectAll().where('deleted', '=', false);
  if (f.projectId !== null) q = q.where('project_id', '=', f.projectId);
  if (f.instanceId !== undefined) q = q.where('instance_id', '=', f.instanceId);
  return q.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute();
}

/** Moves a backup from one of `from` to `to` (with extra columns); false when it was not in `from`. */
export async function transitionTroveBackup(
  db: Db,
  id: string,
  from: readonly string[],
  to: string,
  set: Partial<Pick<TroveBackupRow, 'fail_reason' | 'size_bytes' | 'stored_bytes'>> = {},
): Promise<boolean> {
  const r = await db
    .updateTable('trove_backups')
    .set({ ...set, status: to, updated_at: new Date() })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where('status', 'in', [...from])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function markTroveBackupDeleted(db: Db, id: string): Promise<void> {
  await db
    .updateTable('trove_backups')
    .set({ deleted: true, deleted_at: new Date(), updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/**
 * A deleted backup whose objects could not be removed: DELETE_FAILED with the reason (the row
 * stays deleted, as Trove leaves it; the orphan GC removes the objects later).
 */
export async function markTroveBackupDeleteFailed(db: Db, id: string, reason: string): Promise<boolean> {
  const r = await db
    .updateTable('trove_backups')
    .set({ status: 'DELETE_FAILED', fail_reason: reason, updated_at: new Date() })
    .where('id', '=', id)
    .where('deleted', '=', true)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The live children of a backup (incrementals whose parent it is). */
export async function troveBackupChildren(db: Db, id: string): Promise<TroveBackupRow[]> {
  return db.selectFrom('trove_backups').selectAll().where('parent_id', '=', id).where('deleted', '=', false).execute();
}

/** The instance's running backup, if any (the instance then shows BACKUP). */
export async function runningTroveBackup(db: Db, instanceId: string): Promise<TroveBackupRow | undefined> {
  return db
    .selectFrom('trove_backups')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .where('deleted', '=', false)
    .where('status', 'in', [...TROVE_RUNNING])
    .executeTakeFirst();
}

/** The newest COMPLETED backup of an instance (Trove's get_last_completed: by updated). */
export async function lastCompletedTroveBackup(db: Db, instanceId: string): Promise<TroveBackupRow | undefined> {
  return db
    .selectFrom('trove_backups')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .where('deleted', '=', false)
    .where('status', '=', 'COMPLETED')
    .orderBy('updated_at', 'desc')
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Backups of a host still in a running status (a restart ends them). */
export async function unfinishedTroveBackups(db: Db, host: string | null): Promise<TroveBackupRow[]> {
  let q = db
    .selectFrom('trove_backups')
    .selectAll()
    .where('deleted', '=', false)
    .where('status', 'in', [...TROVE_RUNNING]);
  if (host !== null) q = q.where('host', '=', host);
  return q.execute();
}

/** Where live Trove backups keep their objects (for the orphan GC). */
export async function liveTroveBackupPrefixes(db: Db): Promise<Array<{ container: string; prefix: string }>> {
  return db.selectFrom('trove_backups').select(['container', 'prefix']).where('deleted', '=', false).execute();
}
