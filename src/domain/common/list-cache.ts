import type { Kysely } from 'kysely';
import { inOneSnapshot, readListVersion } from '../../db/list-versions-repository.js';
import type { Database, Db } from '../../db/schema.js';
import type { PageCache } from './page-cache.js';
import type { RequestContext } from './context.js';

/** A rendered list page and the one project whose list version covers every row it read (else null). */
export interface RenderedPage {
  body: Buffer;
  project: string | null;
}

/**
 * A list page through the page cache: one indexed read of `project`'s list version; the
 * cached bytes when they were rendered at that version, else the page rendered and the version
 * read in one snapshot (so the tag is exactly the version of the rows in the page), kept when
 * the page read only `project`'s rows. Several processes stay coherent: the version lives in
 * Postgres and is written in the same transaction as every change a list shows.
 * `key` must hold every input of `render` (query, microversion, policy, link base...);
 * `project` null (e.g. all_tenants) or a disabled cache: `render` alone.
 */
export async function throughListCache(
  db: Kysely<Database>,
  cache: PageCache | undefined,
  project: string | null,
  key: string,
  render: (db: Db) => Promise<RenderedPage>,
): Promise<Buffer> {
  if (!cache?.enabled || project === null) return (await render(db)).body;
  const version = await readListVersion(db, project);
  // No version (the project has never had a backup, volume, snapshot or Trove backup): nothing could tag the page, render it alone.
  if (version === null) return (await render(db)).body;
  const hit = cache.get(key, version);
  if (hit) return hit;
  const fresh = await inOneSnapshot(db, async (trx) => ({ version: await readListVersion(trx, project), page: await render(trx) }));
  if (fresh.version !== null && fresh.page.project === project) cache.set(key, fresh.version, fresh.page.body);
  return fresh.page.body;
}

/** How a route turns a list page into its body text, and every input of that besides the page. */
export interface ListRendering<P> {
  /** The route's inputs (path, microversion, link base, raw query, view options): routes/cinder/list-key.ts. */
  key: string;
  render: (page: P) => string;
}

/**
 * A list request's body through the page cache, keyed by the route's inputs, the caller (project,
 * admin, roles: all a view's policy checks read) and the parsed query. The caller has already
 * passed the policy check and the query's validation (a cached page never answers a request
 * that must fail). `read` reports the one project its rows belong to, else null (never cached).
 */
export function cachedListBody<P extends { project: string | null }>(
  deps: { db: Kysely<Database>; listCache?: PageCache },
  ctx: RequestContext,
  list: { params: unknown; project: string | null },
  r: ListRendering<P>,
  read: (db: Db) => Promise<P>,
): Promise<Buffer> {
  const key = `${r.key}\n${JSON.stringify([ctx.projectId, ctx.isAdmin, ctx.roles, list.params])}`;
  return throughListCache(deps.db, deps.listCache, list.project, key, async (db) => {
    const page = await read(db);
    return { body: Buffer.from(r.render(page)), project: page.project };
  });
}
