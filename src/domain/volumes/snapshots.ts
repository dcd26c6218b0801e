import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { enqueueJob } from '../../jobs/kinds.js';
import { metadataFor, replaceMetadata } from '../../db/resource-metadata.js';
import type { Database, Db, SnapshotRow } from '../../db/schema.js';
import { keepImageMetadataInSnapshot } from './image-metadata.js';
import { findSnapshot, insertSnapshot, updateSnapshotFields } from '../../db/snapshots-repository.js';
import { shareLockVolumeStatus } from '../../db/volumes-repository.js';
import type { RequestContext } from '../common/context.js';
import { invalid, notFound } from '../common/errors.js';
import { checkMetadataCount } from '../common/metadata-limit.js';
import { allowed, authorize } from '../common/policy.js';
import { gigabytesMessage, projectQuotas, quotaExceeded, quotaUsage } from '../common/quotas.js';
import { lockProjectQuota } from '../../db/quotas-repository.js';
import type { Config } from '../../config.js';
import { volumeHostId } from './host.js';
import { VOLUME_SNAPSHOTTABLE } from './status.js';
import { type VolumeServiceDeps, getVolumeRow } from './read.js';
import { readScope } from '../common/scope.js';

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

export async function toSnapshotRecords(db: Db, rows: SnapshotRow[]): Promise<SnapshotRecord[]> {
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
