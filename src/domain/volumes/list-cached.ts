import type { Kysely } from 'kysely';
import type { Database, Db } from '../../db/schema.js';
import type { RequestContext } from '../common/context.js';
import { cachedListBody, type ListRendering } from '../common/list-cache.js';
import type { PageCache } from '../common/page-cache.js';
import { parseVolumeList, readVolumePage, type ResourceListRequest, type VolumePage } from './read.js';
import { parseSnapshotList, readSnapshotPage, type SnapshotPage } from './snapshot-list.js';

/** What the cached volume and snapshot lists need. */
export interface ListDeps {
  db: Kysely<Database>;
  listCache?: PageCache;
  maxLimit: number;
}

/** One list: its checks (policy, query validation) and its page read. */
export interface ResourceList<P> {
  parse: (ctx: RequestContext, query: Record<string, unknown>, atLeast: (v: string) => boolean, maxLimit: number) => ResourceListRequest;
  read: (db: Db, list: ResourceListRequest) => Promise<P>;
}
export const VOLUME_LIST: ResourceList<VolumePage> = { parse: parseVolumeList, read: readVolumePage };
export const SNAPSHOT_LIST: ResourceList<SnapshotPage> = { parse: parseSnapshotList, read: readSnapshotPage };

/**
 * GET /volumes[/detail] or /snapshots[/detail] as response bytes, through the page cache
 * (domain/common/list-cache.ts). The policy check and the query's validation run first on
 * every request: a cached page is never an answer to a request that must fail.
 */
export async function resourceListBody<P extends { project: string | null }>(
  deps: ListDeps,
  kind: ResourceList<P>,
  ctx: RequestContext,
  query: Record<string, unknown>,
  atLeast: (v: string) => boolean,
  r: ListRendering<P>,
): Promise<Buffer> {
  const list = kind.parse(ctx, query, atLeast, deps.maxLimit);
  return cachedListBody(deps, ctx, list, r, (db) => kind.read(db, list));
}
