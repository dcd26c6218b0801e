import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { enqueueJob } from '../../jobs/kinds.js';
import { metadataFor, replaceMetadata } from '../../db/resource-metadata.js';
import type { Database, SnapshotRow } from '../../db/schema.js';
import { keepImageMetadataInSnapshot } from './image-metadata.js';
import { findSnapshot, insertSnapshot, listSnapshots, updateSnapshotFields } from '../../db/snapshots-repository.js';
import { shareLockVolumeStatus } from '../../db/volumes-repository.js';
import type { RequestContext } from '../common/context.js';
import { invalid, notFound } from '../common/errors.js';
import { checkMetadataCount } from '../common/metadata-limit.js';
import { type ListRules, parseListParams } from '../common/list-params.js';
import { type ListParams } from '../../db/paginate.js';
import { allowed, authorize } from '../common/policy.js';
import { gigabytesMessage, projectQuotas, quotaExceeded, quotaUsage } from '../common/quotas.js';
import { lockProjectQuota } from '../../db/quotas-repository.js';
import type { Config } from '../../config.js';
import { volumeHostId } from './host.js';
import { VOLUME_SNAPSHOTTABLE } from './status.js';
import { type VolumeServiceDeps, getVolumeRow, parseMetadataFilter } from './read.js';
import { listScope, readScope } from '../common/scope.js';

/** A snapshot with its metadata, what the Cinder view needs. */
export interface SnapshotRecord {
  row: SnapshotRow;
  metadata: Record<string, string>;
}

/** A live snapshot the caller may see, else 404 "Snapshot <id> could not be found." */
export async function getSnapshotRow(db: Kysely<Database>, ctx: RequestContext, id: string): Promise<SnapshotRow> {
  const row = await findSnapshot(db, id, readScope(ctx));
  if (!row || !allowed(ctx, 'volume:get_snapshot', row.project_id)) throw notFound('Snapshot', id);
  return row;
}

export async function toSnapshotRecords(db: Kysely<Database>, rows: SnapshotRow[]): Promise<SnapshotRecord[]> {
  const meta = await metadataFor(
    db,
    'snapshot_metadata',
    rows.map((r) => r.id),
  );
  return rows.map((row) => ({ row, metadata: meta.get(row.id) ?? {} }));
}

export async function showSnapshot(db: Kysely<Database>, ctx: RequestContext, id: string): Promise<SnapshotRecord> {
  return (await toSnapshotRecords(db, [await getSnapshotRow(db, ctx, id)]))[0]!;
}

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

/** GET /snapshots[/detail]. */
export async function listSnapshotsFor(
  db: Kysely<Database>,
  ctx: RequestContext,
  query: Record<string, unknown>,
  atLeast: (v: string) => boolean,
  maxLimit: number,
): Promise<{ records: SnapshotRecord[]; total: number | null; params: ListParams }> {
  authorize(ctx, 'volume:get_all_snapshots');
  const params = parseListParams(query, ctx, atLeast, SNAPSHOT_LIST_RULES, maxLimit);
  // metadata filters members may use only from 3.22 (dropped silently before, as other unknown filters).
  const metadata = ctx.isAdmin || atLeast('3.22') ? parseMetadataFilter(query.metadata) : null;
  const scope = listScope(ctx, params.allTenants);
  const marker = params.marker ? await findSnapshot(db, params.marker, scope) : null;
  if (params.marker && !marker) throw notFound('Snapshot', params.marker);
  const { rows, total } = await listSnapshots(db, params, scope, marker ?? null, metadata);
  return { records: await toSnapshotRecords(db, rows), total, params };
}

export interface CreateSnapshotInput {
  volumeId: string;
  name: string | null;
  description: string | null;
  metadata: Record<string, string>;
  /** undefined: not sent. */
  force: boolean | undefined;
}

/**
 * POST /snapshots: checks the volume (as cinder/volume/api.py create_snapshot), inserts the row `creating` with "0%" and
 * queues the `snapshot_create` copy job in the same transaction.
 */
export async function createSnapshot(
  deps: VolumeServiceDeps,
  ctx: RequestContext,
  input: CreateSnapshotInput,
  atLeast: (v: string) => boolean,
): Promise<SnapshotRecord> {
  const vol = await getVolumeRow(deps.db, ctx, input.volumeId);
  authorize(ctx, 'volume:create_snapshot', vol.project_id);
  checkMetadataCount(input.metadata);
  if (atLeast('3.66') && input.force === false) {
    throw invalid(null, 'Since microversion 3.66 the "force" flag is invalid for this request and it may not have a value of False.');
  }
  if (vol.status === 'maintenance') throw invalid('volume', 'The snapshot cannot be created when the volume is in maintenance mode.');
  if (vol.status === 'error') throw invalid('volume', 'The snapshot cannot be created when the volume is in error status.');
  const inUseOk = input.force === true || atLeast('3.66');
  const okStatuses: readonly string[] = inUseOk ? VOLUME_SNAPSHOTTABLE : ['available'];
  if (!okStatuses.includes(vol.status)) {
    const want = inUseOk ? 'available or in-use' : 'available';
    throw invalid('volume', `Volume ${vol.id} status must be ${want}, but current status is: ${vol.status}.`);
  }
  const id = randomUUID();
  const row = await deps.db.transaction().execute(async (trx) => {
    // FOR SHARE: a concurrent volume delete (a CAS UPDATE) waits for us and then sees the snapshot.
    const still = await shareLockVolumeStatus(trx, vol.id);
    if (still === undefined || !okStatuses.includes(still))
      throw invalid('volume', `Volume ${vol.id} status changed to ${still ?? 'deleted'}; retry.`);
    await checkSnapshotQuota(trx, deps.config, ctx.projectId, vol.size);
    const inserted = await insertSnapshot(trx, {
      id,
      project_id: ctx.projectId,
      user_id: ctx.userId,
      volume_id: vol.id,
      display_name: input.name,
      display_description: input.description,
      status: 'creating',
      progress: '0%',
      volume_size: vol.size,
    });
    await replaceMetadata(trx, 'snapshot_metadata', id, input.metadata);
    await keepImageMetadataInSnapshot(trx, vol, id);
    await enqueueJob(trx, {
      kind: 'snapshot_create',
      resourceId: id,
      projectId: vol.project_id,
      payload: { volumeId: vol.id },
      hostId: volumeHostId(vol),
    });
    return inserted;
  });
  deps.wakeJobs?.();
  return { row, metadata: input.metadata };
}

/** PUT /snapshots/{id}: name/description only, no status condition. */
export async function updateSnapshot(
  db: Kysely<Database>,
  ctx: RequestContext,
  id: string,
  set: { name?: string | null; description?: string | null },
): Promise<SnapshotRecord> {
  const snap = await getSnapshotRow(db, ctx, id);
  authorize(ctx, 'volume:update_snapshot', snap.project_id);
  const patch: { display_name?: string | null; display_description?: string | null } = {};
  if (set.name !== undefined) patch.display_name = set.name;
  if (set.description !== undefined) patch.display_description = set.description;
  const row = await updateSnapshotFields(db, id, patch);
  if (!row) throw notFound('Snapshot', id);
  return (await toSnapshotRecords(db, [row]))[0]!;
}

/** Quota for one more snapshot of `sizeGb` (snapshots +1, gigabytes +size): 413 overLimit. Inside the insert's transaction. */
async function checkSnapshotQuota(trx: Transaction<Database>, config: Config, projectId: string, sizeGb: number): Promise<void> {
  await lockProjectQuota(trx, projectId);
  const limits = await projectQuotas(trx, config, projectId);
  const used = await quotaUsage(trx, projectId);
  if (limits.snapshots >= 0 && used.snapshots + 1 > limits.snapshots) {
    throw quotaExceeded('SnapshotLimitExceeded', `Maximum number of snapshots allowed (${limits.snapshots}) exceeded`);
  }
  if (limits.gigabytes >= 0 && used.gigabytes + sizeGb > limits.gigabytes) {
    throw quotaExceeded(
      'VolumeSizeExceedsAvailableQuota',
      gigabytesMessage('volume or snapshot', 'gigabytes', sizeGb, limits.gigabytes, used.gigabytes),
    );
  }
}
