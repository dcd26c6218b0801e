import { sql } from 'kysely';
import { type Scope, isUuid } from './scope.js';
import type { Transaction } from 'kysely';
import type { BackupRow, BackupUpdate, Database, Db, NewBackupRow } from './schema.js';

/**
 * Every query on `backups` and `backup_metadata`. Status changes are compare-and-sets
 * (`UPDATE ... WHERE status = ANY(from) RETURNING *`): a lost race returns undefined.
 */

/** Inserts a backup row and its metadata. */
export async function insertBackup(db: Db, row: NewBackupRow, metadata: Record<string, string>): Promise<BackupRow> {
  const created = await db.insertInto('backups').values(row).returningAll().executeTakeFirstOrThrow();
  await replaceBackupMetadata(db, created.id, metadata);
  return created;
}

/** A live (not deleted) backup visible in `scope`, or undefined. */
export async function findBackup(db: Db, id: string, scope: Scope): Promise<BackupRow | undefined> {
  if (!isUuid(id)) return undefined;
  let q = db.selectFrom('backups').selectAll().where('id', '=', id).where('deleted', '=', false);
  if (scope.projectId !== null) q = q.where('project_id', '=', scope.projectId);
  return q.executeTakeFirst();
}

/** Any row with this id, deleted or not (import revives soft-deleted ids). */
export async function findBackupAnyState(db: Db, id: string): Promise<BackupRow | undefined> {
  if (!isUuid(id)) return undefined;
  return db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Metadata maps of several backups at once. */
export async function backupMetadata(db: Db, ids: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>(ids.map((id) => [id, {}]));
  if (ids.length === 0) return out;
  const rows = await db.selectFrom('backup_metadata').selectAll().where('backup_id', 'in', ids).execute();
  for (const r of rows) out.get(r.backup_id)![r.key] = r.value;
  return out;
}

/** Replaces the whole metadata map (Cinder's update semantics). */
export async function replaceBackupMetadata(db: Db, id: string, metadata: Record<string, string>): Promise<void> {
  await db.deleteFrom('backup_metadata').where('backup_id', '=', id).execute();
  const rows = Object.entries(metadata).map(([key, value]) => ({ backup_id: id, key, value }));
  if (rows.length) await db.insertInto('backup_metadata').values(rows).execute();
}

/**
 * Compare-and-set: applies `changes` only while the status is one of `from`.
 * Returns the updated row, or undefined when the status had moved on.
 */
export async function transitionBackup(db: Db, id: string, from: readonly string[], changes: BackupUpdate): Promise<BackupRow | undefined> {
  return db
    .updateTable('backups')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where('status', '=', sql<string>`ANY(${sql.val([...from])}::text[])`)
    .returningAll()
    .executeTakeFirst();
}

/** Non-status fields (name, description, container, prefix...); no status condition. */
export async function updateBackupFields(db: Db, id: string, changes: BackupUpdate): Promise<BackupRow | undefined> {
  return db
    .updateTable('backups')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .returningAll()
    .executeTakeFirst();
}

/** The readable side of a progress record (phase, bytes read and stored, current rate). */
export interface ProgressFigures {
  phase: string;
  bytesRead: number;
  bytesStored: number;
  rateBytesPerSec: number;
}

/** Persists the running operation's byte counters (progress extension); no updated_at bump. */
export async function saveProgress(db: Db, id: string, done: number, total: number, figures?: ProgressFigures): Promise<void> {
  await db
    .updateTable('backups')
    .set({
      progress_bytes_done: done,
      progress_bytes_total: total,
      progress_updated_at: sql<Date>`now()`,
      ...(figures && {
        progress_phase: figures.phase,
        progress_bytes_read: figures.bytesRead,
        progress_bytes_stored: figures.bytesStored,
        progress_rate_bytes_per_sec: Math.round(figures.rateBytesPerSec),
      }),
    })
    .where('id', '=', id)
    .execute();
}

/**
 * Starts a new progress record for `operation` (backup, restore, verify), written by attempt
 * `run.attempt` of job `run.jobId`: a record of another run is stale and never shown as this one's.
 */
export async function startProgress(
  db: Db,
  id: string,
  operation: string,
  total: number,
  run: { jobId: number; attempt: number },
): Promise<void> {
  await db
    .updateTable('backups')
    .set({
      progress_operation: operation,
      progress_bytes_done: 0,
      progress_bytes_total: total,
      progress_started_at: sql<Date>`now()`,
      progress_updated_at: sql<Date>`now()`,
      progress_phase: 'starting',
      progress_bytes_read: 0,
      progress_bytes_stored: 0,
      progress_rate_bytes_per_sec: 0,
      progress_job_id: run.jobId,
      progress_attempt: run.attempt,
    })
    .where('id', '=', id)
    .execute();
}

/** True when a live backup has `id` as its parent, whatever its status (Cinder's delete check). */
export async function hasDependents(db: Db, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('backups')
    .select('id')
    .where('parent_id', '=', id)
    .where('deleted', '=', false)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Number of live backups of a volume in a project (incremental precondition). */
export async function countVolumeBackups(db: Db, volumeId: string, projectId: string): Promise<number> {
  const row = await db
    .selectFrom('backups')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('volume_id', '=', volumeId)
    .where('project_id', '=', projectId)
    .where('deleted', '=', false)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The incremental parent, as Cinder master chooses it: the newest `available` backup of
 * the volume by data_timestamp, limited to data older than `before` for snapshot backups.
 */
export async function newestAvailableBackup(
  db: Db,
  volumeId: string,
  projectId: string,
  before: Date | null,
): Promise<BackupRow | undefined> {
  let q = db
    .selectFrom('backups')
    .selectAll()
    .where('volume_id', '=', volumeId)
    .where('project_id', '=', projectId)
    .where('deleted', '=', false)
    .where('status', '=', 'available');
  if (before) q = q.where('data_timestamp', '<', before);
  // FOR SHARE: a concurrent delete of the parent (status CAS) waits for us, or we skip it.
  return q.orderBy('data_timestamp', 'desc').orderBy('created_at', 'desc').limit(1).forShare().executeTakeFirst();
}

/** Atomically moves the dependent counter (never below zero): Cinder master's fix for bug 2163042. */
export async function adjustDependents(db: Db, parentId: string, delta: 1 | -1): Promise<void> {
  await db
    .updateTable('backups')
    .set({ num_dependent_backups: sql<number>`GREATEST(0, num_dependent_backups + ${delta})` })
    .where('id', '=', parentId)
    .execute();
}

/** Soft-deletes a backup that is `deleting`; returns the row or undefined when not deleting. */
export async function softDeleteBackup(db: Db, id: string): Promise<BackupRow | undefined> {
  return transitionBackup(db, id, ['deleting'], { status: 'deleted', deleted: true, deleted_at: sql<Date>`now()` as unknown as Date });
}

/** The chain for a restore: the requested backup and its ancestors, full backup first. */
export async function backupChain(db: Db, id: string): Promise<BackupRow[]> {
  const chain: BackupRow[] = [];
  let next: string | null = id;
  // Bounded: a chain longer than 10,000 is a corrupt parent loop, not a real chain.
  for (let i = 0; next !== null && i < 10_000; i++) {
    const row: BackupRow | undefined = await db.selectFrom('backups').selectAll().where('id', '=', next).executeTakeFirst();
    if (!row) throw new Error(`backup ${next} of the chain is missing`);
    chain.unshift(row);
    next = row.parent_id;
  }
  return chain;
}

/**
 * The recovery sweep's rows: live backups in a busy status (creating, restoring, deleting), or
 * in `error` still holding a temporary snapshot or volume, with no queued or running job of a
 * backup kind on them.
 */
export async function stuckBackups(db: Db): Promise<BackupRow[]> {
  return db
    .selectFrom('backups as b')
    .selectAll('b')
    .where('b.deleted', '=', false)
    .where((eb) =>
      eb.or([
        eb('b.status', 'in', ['creating', 'restoring', 'deleting']),
        eb.and([eb('b.status', '=', 'error'), eb.or([eb('b.temp_snapshot_id', 'is not', null), eb('b.temp_volume_id', 'is not', null)])]),
      ]),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('jobs as j')
            .select('j.id')
            .whereRef('j.resource_id', '=', 'b.id')
            .where((eb) => eb.or([eb('j.status', '=', 'queued'), eb('j.status', '=', 'running')]))
            .where(sql<boolean>`j.kind IN ('backup', 'restore', 'delete_backup', 'import_record')`),
        ),
      ),
    )
    .execute();
}

/** Locks the backup row (FOR UPDATE) until the transaction ends and returns its status. Throws if it is gone. */
export async function lockBackupStatus(trx: Transaction<Database>, id: string): Promise<string> {
  const row = await trx.selectFrom('backups').select('status').where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
  return row.status;
}
