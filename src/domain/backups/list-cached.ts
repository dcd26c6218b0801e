import { cachedListBody, type ListRendering } from '../common/list-cache.js';
import type { RequestContext } from '../common/context.js';
import type { PageCache } from '../common/page-cache.js';
import type { BackupApiDeps } from './deps.js';
import { type BackupPage, type BackupSelect, listBackupPage, parseBackupListParams } from './reads.js';

/** How the route renders a page: what it reads of each row, the body text, and every input of both. */
export interface BackupListRendering<R> extends ListRendering<BackupPage<R>> {
  select: BackupSelect<R>;
}

/**
 * GET /backups and /backups/detail as response bytes, through the page cache when the page
 * is one project's (domain/common/list-cache.ts). The policy check and the query's validation
 * run first on every request: a cached page is never an answer to a request that must fail.
 */
export async function backupListBody<R extends { id: string }>(
  deps: Pick<BackupApiDeps, 'db' | 'config'> & { listCache?: PageCache },
  ctx: RequestContext,
  query: Record<string, unknown>,
  atLeast: (v: string) => boolean,
  r: BackupListRendering<R>,
): Promise<Buffer> {
  const params = parseBackupListParams(deps, ctx, query, atLeast);
  const project = params.allTenants ? null : ctx.projectId;
  return cachedListBody(deps, ctx, { params, project }, r, (db) => listBackupPage({ db }, ctx, params, r.select));
}
