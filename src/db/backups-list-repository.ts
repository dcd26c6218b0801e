import { type SelectQueryBuilder, sql } from 'kysely';
import type { ListParams } from './paginate.js';
import type { Scope } from './scope.js';
import { applyFilters, paginate } from './paginate.js';
import type { Database, Db } from './schema.js';

/**
 * What a list page reads of each backup: the view's columns (backup-views-repository.ts) or
 * the item's rendered JSON (backup-views-json.ts).
 */
export type BackupSelect<R> = (qb: SelectQueryBuilder<Database, 'backups', object>) => SelectQueryBuilder<Database, 'backups', R>;

/** Text columns that may be NULL and can be sort keys: compared as '' in keyset pagination. */
const NULLABLE_TEXT = [
  'display_name',
  'display_description',
  'container',
  'availability_zone',
  'host',
  'parent_id',
  'snapshot_id',
  'fail_reason',
];

/** API list keys -> backups columns (sorting and admin filters; Cinder's model columns). */
export const BACKUP_LIST_COLUMNS: Record<string, string> = {
  id: 'id',
  name: 'display_name',
  display_name: 'display_name',
  description: 'display_description',
  display_description: 'display_description',
  status: 'status',
  volume_id: 'volume_id',
  project_id: 'project_id',
  user_id: 'user_id',
  size: 'size',
  object_count: 'object_count',
  container: 'container',
  availability_zone: 'availability_zone',
  host: 'host',
  parent_id: 'parent_id',
  snapshot_id: 'snapshot_id',
  fail_reason: 'fail_reason',
  data_timestamp: 'data_timestamp',
  created_at: 'created_at',
  updated_at: 'updated_at',
};

function base(db: Db, scope: Scope) {
  let q = db.selectFrom('backups').where('deleted', '=', false);
  if (scope.projectId !== null) q = q.where('project_id', '=', scope.projectId);
  return q;
}

/**
 * One page of backups as `select` reads them (keyset pagination after `markerRow`), plus
 * the total with the same filters when `with_count` was asked.
 */
export async function listBackups<R>(
  db: Db,
  scope: Scope,
  params: ListParams,
  markerRow: { id: string } | null,
  select: BackupSelect<R>,
): Promise<{ rows: R[]; total: number | null }> {
  const rows =
    params.limit === 0
      ? []
      : await paginate(select(base(db, scope)), params, markerRow && { table: 'backups', row: markerRow }, NULLABLE_TEXT).execute();
  let total: number | null = null;
  if (params.withCount) {
    const r = await applyFilters(base(db, scope).select(sql<number>`count(*)`.as('n')), params).executeTakeFirstOrThrow();
    total = Number(r.n);
  }
  return { rows, total };
}
