import { type SelectQueryBuilder, sql } from 'kysely';
import { type Scope, isUuid } from './scope.js';
import type { BackupViewRow, Database, Db } from './schema.js';

/**
 * The reads behind the backup API's show and list views: the columns they print, the
 * timestamps as UTC text and the metadata map, in one query.
 * NOTE: on a 100-item page, parsing every column (and each timestamptz into a Date) and a
 * second query for metadata were most of the request's JavaScript time when profiled.
 */

const COLUMNS = [
  'id',
  'project_id',
  'user_id',
  'volume_id',
  'availability_zone',
  'display_name',
  'display_description',
  'container',
  'parent_id',
  'status',
  'fail_reason',
  'size',
  'object_count',
  'num_dependent_backups',
  'snapshot_id',
  'encryption_key_id',
] as const;

/**
 * Postgres' text of the UTC time, "2026-11-22 10:15:03.123456" (fraction without trailing
 * zeros, none when zero), whatever the session's TimeZone. Aliased apart from the column:
 * ORDER BY "created_at" would otherwise sort by this text.
 * NOTE: the text form (DateStyle ISO, which node-pg's own Date parsing needs too) costs
 * Postgres a third of what to_char() does.
 */
function utcText(column: 'created_at' | 'updated_at' | 'data_timestamp') {
  return sql<string>`(${sql.ref(`backups.${column}`)} AT TIME ZONE 'UTC')::text`;
}

// NOTE: in ctid order, the order the former separate query returned them (a bitmap or
// sequential scan: insertion order for a map written at once), so that responses did not
// change; volumes sort their keys instead (metadataFor).
const metadata = sql<
  Record<string, string>
>`coalesce((SELECT json_object_agg(m.key, m.value ORDER BY m.ctid) FROM backup_metadata m WHERE m.backup_id = backups.id), '{}')`;

/** What a view shows beyond the columns: the metadata map costs a subquery per row. */
export interface BackupViewSelection {
  metadata: boolean;
}

/** Adds the view's selection to a query on `backups`. */
export function selectBackupView(
  qb: SelectQueryBuilder<Database, 'backups', object>,
  selection: BackupViewSelection,
): SelectQueryBuilder<Database, 'backups', BackupViewRow> {
  const q = qb.select([
    ...COLUMNS,
    utcText('created_at').as('created_at_utc'),
    utcText('updated_at').as('updated_at_utc'),
    utcText('data_timestamp').as('data_timestamp_utc'),
  ]);
  return selection.metadata ? q.select(metadata.as('metadata')) : q;
}

/** selectBackupView as a list page's selection (backups-list-repository.ts). */
export function backupViewColumns(selection: BackupViewSelection) {
  return (qb: SelectQueryBuilder<Database, 'backups', object>) => selectBackupView(qb, selection);
}

/** The summary list's selection: only the columns it shows (id, name). */
export function backupSummaryColumns(qb: SelectQueryBuilder<Database, 'backups', object>) {
  return qb.select(['id', 'display_name']);
}

/** A live backup visible in `scope`, as the show view needs it, or undefined. */
export async function findBackupView(db: Db, id: string, scope: Scope, selection: BackupViewSelection): Promise<BackupViewRow | undefined> {
  if (!isUuid(id)) return undefined;
  let q = selectBackupView(db.selectFrom('backups'), selection).where('id', '=', id).where('deleted', '=', false);
  if (scope.projectId !== null) q = q.where('project_id', '=', scope.projectId);
  return q.executeTakeFirst();
}
