/**
 * Every read of the backup API in one place: one backup (show, and the load-and-authorize
 * step the actions start with) and the list; the progress extension is progress.ts.
 */
import { type BackupJsonView, selectBackupJson } from '../../db/backup-views-json.js';
import { type BackupViewSelection, backupSummaryColumns, backupViewColumns, findBackupView } from '../../db/backup-views-repository.js';
import { BACKUP_LIST_COLUMNS, type BackupSelect, listBackups } from '../../db/backups-list-repository.js';
import { findBackup } from '../../db/backups-repository.js';
import type { ListParams } from '../../db/paginate.js';
import type { BackupRow, BackupViewRow } from '../../db/schema.js';
import type { RequestContext } from '../common/context.js';
import { notFound } from '../common/errors.js';
import { type ListRules, parseListParams } from '../common/list-params.js';
import { type PolicyRule, authorize } from '../common/policy.js';
import { readScope } from '../common/scope.js';
import type { BackupApiDeps } from './deps.js';

/**
 * Loads a backup the caller may see and checks `rule` against its project.
 * Throws 404 "Backup <id> could not be found." (also for other projects' backups) or 403.
 */
export async function getBackupFor(deps: Pick<BackupApiDeps, 'db'>, ctx: RequestContext, id: string, rule: PolicyRule): Promise<BackupRow> {
  const row = await findBackup(deps.db, id, readScope(ctx));
  if (!row) throw notFound('Backup', id);
  authorize(ctx, rule, row.project_id);
  return row;
}

/** GET /backups/{id}: what the view shows (`selection`), in one query. Throws as getBackupFor. */
export async function showBackup(
  deps: Pick<BackupApiDeps, 'db'>,
  ctx: RequestContext,
  id: string,
  selection: BackupViewSelection,
): Promise<BackupViewRow> {
  const row = await findBackupView(deps.db, id, readScope(ctx), selection);
  if (!row) throw notFound('Backup', id);
  authorize(ctx, 'backup:get', row.project_id);
  return row;
}

/** Cinder's list rules for backups (cinder/api/v3/backups.py; sort by name from 3.37). */
export const BACKUP_LIST_RULES: ListRules = {
  columns: BACKUP_LIST_COLUMNS,
  nameSortSince: '3.37',
  memberFilters: ['name', 'status', 'volume_id'],
};

export interface BackupPage<R = BackupViewRow> {
  /** Rows as `select` read them (db/backup-views-repository.ts, db/backup-views-json.ts). */
  items: R[];
  total: number | null;
  params: ListParams;
  lastId: string | null;
  /** The one project every row read (listed rows, marker) belongs to; null: all_tenants or another project's marker. */
  project: string | null;
}

export type { BackupJsonRow, BackupJsonView } from '../../db/backup-views-json.js';
export type { BackupSelect } from '../../db/backups-list-repository.js';

/** GET /backups/detail, the views' reference path: the columns the detail view prints. */
export function listBackupViewsFor(deps: ListDeps, ctx: RequestContext, query: Query, atLeast: AtLeast, selection: BackupViewSelection) {
  return listBackupsFor(deps, ctx, query, atLeast, backupViewColumns(selection));
}

/** GET /backups, the views' reference path: only the columns the summary shows (id, name). */
export function listBackupSummariesFor(deps: ListDeps, ctx: RequestContext, query: Query, atLeast: AtLeast) {
  return listBackupsFor(deps, ctx, query, atLeast, backupSummaryColumns);
}

/** GET /backups and /backups/detail with each item's JSON rendered by Postgres (db/backup-views-json.ts). */
export function listBackupJsonFor(deps: ListDeps, ctx: RequestContext, query: Query, atLeast: AtLeast, view: BackupJsonView) {
  return listBackupsFor(deps, ctx, query, atLeast, selectBackupJson(view));
}

/** What a list page reads of each row (list-cached.ts): the detail view's columns, the summary's, or Postgres' JSON. */
export const backupListSelect = { detail: backupViewColumns, summary: backupSummaryColumns, json: selectBackupJson };

type ListDeps = Pick<BackupApiDeps, 'db' | 'config'>;
type Query = Record<string, unknown>;
type AtLeast = (v: string) => boolean;

/**
 * GET /backups and /backups/detail. Members see their project only (all_tenants ignored);
 * an unknown or invisible marker is a 404, as Cinder. `select`: what the view reads of a row.
 */
async function listBackupsFor<R extends { id: string }>(
  deps: ListDeps,
  ctx: RequestContext,
  query: Record<string, unknown>,
  atLeast: (v: string) => boolean,
  select: BackupSelect<R>,
): Promise<BackupPage<R>> {
  return listBackupPage(deps, ctx, parseBackupListParams(deps, ctx, query, atLeast), select);
}

/** The list query's parameters (limit, marker, sort, filters...) after the list policy check. Throws 403 or 400. */
export function parseBackupListParams(deps: Pick<ListDeps, 'config'>, ctx: RequestContext, query: Query, atLeast: AtLeast): ListParams {
  authorize(ctx, 'backup:get_all');
  return parseListParams(query, ctx, atLeast, BACKUP_LIST_RULES, deps.config.OSAPI_MAX_LIMIT);
}

/** One page for `params` (parseBackupListParams). Throws 404 for an unknown or invisible marker. */
export async function listBackupPage<R extends { id: string }>(
  deps: Pick<ListDeps, 'db'>,
  ctx: RequestContext,
  params: ListParams,
  select: BackupSelect<R>,
): Promise<BackupPage<R>> {
  // An admin without all_tenants sees their own project, like everyone else.
  const scope = params.allTenants ? { projectId: null } : { projectId: ctx.projectId };
  let markerRow: BackupRow | null = null;
  if (params.marker !== null) {
    markerRow = (await findBackup(deps.db, params.marker, readScope(ctx))) ?? null;
    if (!markerRow) throw notFound('Backup', params.marker);
  }
  const { rows, total } = await listBackups(deps.db, scope, params, markerRow, select);
  // An admin's marker may be another project's row: then the page read more than one project.
  const oneProject = scope.projectId !== null && (markerRow === null || markerRow.project_id === scope.projectId);
  return {
    items: rows,
    total,
    params,
    lastId: rows.at(-1)?.id ?? null,
    project: oneProject ? scope.projectId : null,
  };
}

/** Percent done (one decimal), the figure the progress extension and CBR's operation logs report. */
export function progressPercent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done * 1000) / total) / 10) : 0;
}
