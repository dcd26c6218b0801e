import type { Kysely } from 'kysely';
import { inOneSnapshot, readListVersion } from '../../db/list-versions-repository.js';
import type { Database, Db } from '../../db/schema.js';
import type { PageCache } from './page-cache.js';

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
  // No version (the project has never had a backup): nothing could tag the page, render it alone.
  if (version === null) return (await render(db)).body;
  const hit = cache.get(key, version);
  if (hit) return hit;
  const fresh = await inOneSnapshot(db, async (trx) => ({ version: await readListVersion(trx, project), page: await render(trx) }));
  if (fresh.version !== null && fresh.page.project === project) cache.set(key, fresh.version, fresh.page.body);
  return fresh.page.body;
}
