import type { Db } from '../../db/schema.js';
import { findSnapshot, listSnapshots } from '../../db/snapshots-repository.js';
import type { RequestContext } from '../common/context.js';
import { notFound } from '../common/errors.js';
import { type ListRules, parseListParams } from '../common/list-params.js';
import { authorize } from '../common/policy.js';
import { listScope } from '../common/scope.js';
import { parseMetadataFilter, type ResourceListRequest, type ResourcePage } from './read.js';
import { type SnapshotRecord, toSnapshotRecords } from './snapshots.js';

export const SNAPSHOT_LIST_RULES: ListRules = {
  columns: {
    id: 'id',
    name: 'display_name',
    display_name: 'display_name',
    description: 'display_description',
    status: 'status',
    volume_id: 'volume_id',
    size: 'volume_size',
    volume_size: 'volume_size',
    created_at: 'created_at',
    updated_at: 'updated_at',
    project_id: 'project_id',
    user_id: 'user_id',
    progress: 'progress',
  },
  nameSortSince: '3.30',
  memberFilters: ['name', 'status', 'volume_id', 'metadata', 'availability_zone', 'consumes_quota'],
  reserved: ['metadata'],
};

export type SnapshotPage = ResourcePage<SnapshotRecord>;

/** GET /snapshots[/detail], before any read: the policy check and the query's validation (throws 403, 400). */
export function parseSnapshotList(
  ctx: RequestContext,
  query: Record<string, unknown>,
  atLeast: (v: string) => boolean,
  maxLimit: number,
): ResourceListRequest {
  authorize(ctx, 'volume:get_all_snapshots');
  const params = parseListParams(query, ctx, atLeast, SNAPSHOT_LIST_RULES, maxLimit);
  // metadata filters members may use only from 3.22 (dropped silently before, as other unknown filters).
  const metadata = ctx.isAdmin || atLeast('3.22') ? parseMetadataFilter(query.metadata) : null;
  return { params, metadata, project: listScope(ctx, params.allTenants).projectId };
}

/** The page of a checked request. Throws 404 for a marker outside the scope (the marker is then always of `project`). */
export async function readSnapshotPage(db: Db, list: ResourceListRequest): Promise<SnapshotPage> {
  const scope = { projectId: list.project };
  const marker = list.params.marker ? await findSnapshot(db, list.params.marker, scope) : null;
  if (list.params.marker && !marker) throw notFound('Snapshot', list.params.marker);
  const { rows, total } = await listSnapshots(db, list.params, scope, marker ?? null, list.metadata);
  return { records: await toSnapshotRecords(db, rows), total, params: list.params, project: list.project };
}
