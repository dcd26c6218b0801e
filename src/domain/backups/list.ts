import type { BackupViewSelection } from '../../db/backup-views-repository.js';
import { findBackup } from '../../db/backups-repository.js';
import { BACKUP_LIST_COLUMNS, listBackups } from '../../db/backups-list-repository.js';
import type { BackupRow, BackupViewRow } from '../../db/schema.js';
import { type BackupApiDeps } from './read.js';
import { readScope } from '../common/scope.js';
import type { RequestContext } from '../common/context.js';
import { notFound } from '../common/errors.js';
import { type ListRules, parseListParams } from '../common/list-params.js';
import { type ListParams } from '../../db/paginate.js';
import { authorize } from '../common/policy.js';

/** Cinder's list rules for backups (reference §2.5, §3.3). */
export const BACKUP_LIST_RULES: ListRules = {
  columns: BACKUP_LIST_COLUMNS,
  nameSortSince: '3.37',
  memberFilters: ['name', 'status', 'volume_id'],
};

export interface BackupPage {
  /** Rows as the views read them (db/backup-views-repository.ts). */
  items: BackupViewRow[];
  total: number | null;
  params: ListParams;
  lastId: string | null;
}

/**
 * GET /backups and /backups/detail. Members see their project only (all_tenants ignored);
 * an unknown or invisible marker is a 404, as Cinder. `selection`: what the view shows.
 */
export async function listBackupsFor(
  deps: Pick<BackupApiDeps, 'db' | 'config'>,
  ctx: RequestContext,
  query: Record<string, unknown>,
  atLeast: (v: string) => boolean,
  selection: BackupViewSelection,
): Promise<BackupPage> {
  authorize(ctx, 'backup:get_all');
  const params = parseListParams(query, ctx, atLeast, BACKUP_LIST_RULES, deps.config.OSAPI_MAX_LIMIT);
  // An admin without all_tenants sees their own project, like everyone else.
  const scope = params.allTenants ? { projectId: null } : { projectId: ctx.projectId };
  let markerRow: BackupRow | null = null;
  if (params.marker !== null) {
    markerRow = (await findBackup(deps.db, params.marker, readScope(ctx))) ?? null;
    if (!markerRow) throw notFound('Backup', params.marker);
  }
  const { rows, total } = await listBackups(deps.db, scope, params, markerRow, selection);
  return {
    items: rows,
    total,
    params,
    lastId: rows.at(-1)?.id ?? null,
  };
}
