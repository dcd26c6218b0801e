import type { Kysely } from 'kysely';
import type { Database, TroveBackupRow } from '../../../db/schema.js';
import { listTroveBackups } from '../../../db/trove-backups-repository.js';
import type { RequestContext } from '../../common/context.js';
import { cachedListBody, type ListRendering } from '../../common/list-cache.js';
import type { PageCache } from '../../common/page-cache.js';
import type { TroveDeps } from '../instances/runtime.js';
import { getInstance } from '../instances/read.js';
import { checkTroveBackupList, type TroveBackupList, type TroveBackupListQuery } from './read.js';

/** What the cached Trove backup lists need (AppDeps has it all). */
export interface TroveListDeps extends TroveDeps {
  db: Kysely<Database>;
  listCache?: PageCache;
}

/** One page of a Trove backup list, and the one project its rows belong to (null: every project's). */
export interface TroveBackupPage {
  project: string | null;
  rows: TroveBackupRow[];
  limit: number;
  /** Trove's marker: the page's offset. */
  offset: number;
}

function listBody(deps: TroveListDeps, ctx: RequestContext, list: TroveBackupList, r: ListRendering<TroveBackupPage>): Promise<Buffer> {
  const { limit, offset } = list.params;
  return cachedListBody(deps, ctx, list, r, async (db) => ({
    project: list.project,
    rows: await listTroveBackups(db, list.params),
    limit,
    offset,
  }));
}

/**
 * GET /v1.0/{p}/backups as response bytes, through the page cache (domain/common/list-cache.ts)
 * when the page is one project's (never for all_projects). The policy check and the query's
 * checks (checkTroveBackupList) run first on every request. Throws forbidden, not_found.
 */
export function troveBackupListBody(
  deps: TroveListDeps,
  ctx: RequestContext,
  q: TroveBackupListQuery,
  r: ListRendering<TroveBackupPage>,
): Promise<Buffer> {
  return listBody(deps, ctx, checkTroveBackupList(ctx, q), r);
}

/**
 * GET /v1.0/{p}/instances/{id}/backups as response bytes: the instance check (404 for an unknown
 * or foreign id) runs on every request, since a deleted instance changes no list version; then
 * the instance's backups in the caller's project through the page cache, or for an admin every
 * project's (never cached). `r` gets the instance's id (its path holds it).
 */
export async function troveInstanceBackupListBody(
  deps: TroveListDeps,
  ctx: RequestContext,
  instanceRef: string,
  page: { limit: number; offset: number },
  r: (instanceId: string) => ListRendering<TroveBackupPage>,
): Promise<Buffer> {
  const instance = await getInstance(deps, ctx, instanceRef);
  const project = ctx.isAdmin ? null : ctx.projectId;
  return listBody(deps, ctx, { project, params: { projectId: project, instanceId: instance.id, ...page } }, r(instance.id));
}
