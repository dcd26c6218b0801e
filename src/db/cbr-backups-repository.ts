import { sql } from 'kysely';
import { type ListParams, paginate } from './paginate.js';
import type { BackupRow, Db, VolumeRow } from './schema.js';
import { isUuid } from './scope.js';

/** Queries of the CBR backups surface: backups made by a vault's checkpoints (backups.vault_id set). */

const NO_ID = '00000000-0000-0000-0000-000000000000';
const uuidOrNone = (v: string) => (isUuid(v) ? v : NO_ID);

export interface CbrBackupFilter {
  projectId: string;
  checkpointId?: string;
  vaultId?: string;
  resourceId?: string;
  resourceName?: string;
  resourceAz?: string;
  /** Cinder statuses (the domain maps CBR's); an empty list matches nothing. */
  statuses?: string[];
  name?: string;
  parentId?: string;
  incrementalOnly?: boolean;
  startTime?: Date;
  endTime?: Date;
  matchesNothing?: boolean;
}

function base(db: Db, f: CbrBackupFilter) {
  let q = db
    .selectFrom('backups')
    .where('deleted', '=', false)
    .where('cbr_deleted', '=', false)
    .where('vault_id', 'is not', null)
    .where('project_id', '=', f.projectId);
  if (f.matchesNothing) q = q.where(sql<boolean>`false`);
  if (f.checkpointId !== undefined) q = q.where('checkpoint_id', '=', uuidOrNone(f.checkpointId));
  if (f.vaultId !== undefined) q = q.where('vault_id', '=', uuidOrNone(f.vaultId));
  if (f.resourceId !== undefined) q = q.where('volume_id', '=', uuidOrNone(f.resourceId));
  if (f.resourceName !== undefined) {
    const name = f.resourceName;
    q = q.where('volume_id', 'in', (eb) => eb.selectFrom('volumes').select('id').where('display_name', '=', name));
  }
  if (f.resourceAz !== undefined) q = q.where('availability_zone', '=', f.resourceAz);
  if (f.statuses !== undefined) q = q.where('status', 'in', f.statuses.length ? f.statuses : ['-']);
  if (f.name !== undefined) q = q.where('display_name', '=', f.name);
  if (f.parentId !== undefined) q = q.where('parent_id', '=', uuidOrNone(f.parentId));
  if (f.incrementalOnly) q = q.where('parent_id', 'is not', null);
  if (f.startTime !== undefined) q = q.where('created_at', '>=', f.startTime);
  if (f.endTime !== undefined) q = q.where('created_at', '<=', f.endTime);
  return q;
}

/** One page (offset or keyset after `markerId`) and the total matching the filter. */
export async function listCbrBackups(
  db: Db,
  f: CbrBackupFilter,
  params: ListParams,
  markerId: string | null,
): Promise<{ rows: BackupRow[]; count: number }> {
  const rows = await paginate(base(db, f).selectAll(), params, markerId ? { table: 'backups', row: { id: markerId } } : null, [
    'display_name',
  ]).execute();
  const c = await base(db, f)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { rows, count: Number(c.n) };
}

/** A live CBR backup of the project, or undefined (unknown, Cinder-made, or deleted through CBR). */
export async function findCbrBackup(db: Db, id: string, projectId: string): Promise<BackupRow | undefined> {
  if (!isUuid(id)) return undefined;
  return base(db, { projectId }).selectAll().where('id', '=', id).executeTakeFirst();
}

/** The volumes the backups were made of (deleted ones included: a backup outlives its volume). */
export async function volumesByIds(db: Db, ids: readonly string[]): Promise<Map<string, VolumeRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('volumes')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Marks a backup deleted through CBR while dependents still need its data (compare-and-set on its status). */
export async function holdCbrDeleted(db: Db, id: string, from: readonly string[]): Promise<BackupRow | undefined> {
  return db
    .updateTable('backups')
    .set({ cbr_deleted: true, updated_at: sql<Date>`now()` as unknown as Date })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

/** A held parent whose last dependent just went: its data may be deleted now. */
export async function releasableHeldParent(db: Db, parentId: string): Promise<BackupRow | undefined> {
  const row = await db
    .selectFrom('backups as b')
    .selectAll('b')
    .where('b.id', '=', parentId)
    .where('b.deleted', '=', false)
    .where('b.cbr_deleted', '=', true)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('backups as c').select('c.id').whereRef('c.parent_id', '=', 'b.id').where('c.deleted', '=', false))),
    )
    .executeTakeFirst();
  return row;
}

/** Backup rows by id, deleted ones included (operation logs outlive their backups). */
export async function backupsByIds(db: Db, ids: readonly string[]): Promise<Map<string, BackupRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('backups')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}
