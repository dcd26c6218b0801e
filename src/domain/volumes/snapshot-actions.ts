import { enqueueJob } from '../../jobs/kinds.js';
import { hasLiveJob } from '../../db/jobs-repository.js';
import { transitionSnapshot } from '../../db/snapshots-repository.js';
import { findVolume } from '../../db/volumes-repository.js';
import type { RequestContext } from '../common/context.js';
import { invalid } from '../common/errors.js';
import { authorize } from '../common/policy.js';
import { volumeHostId } from './host.js';
import { getSnapshotRow } from './snapshots.js';
import { SNAPSHOT_STATUSES, SNAPSHOT_TRANSITIONS, SNAPSHOT_UPDATE_STATUS_ALLOWED } from './status.js';
import type { VolumeServiceDeps } from './read.js';

/**
 * DELETE /snapshots/{id} (and os-force_delete with `force`): CAS to `deleting` and
 * queue the `snapshot_delete` job in one transaction. 400 when the status forbids it.
 */
export async function deleteSnapshot(deps: VolumeServiceDeps, ctx: RequestContext, id: string, force = false): Promise<void> {
  const snap = await getSnapshotRow(deps.db, ctx, id);
  authorize(ctx, force ? 'volume_extension:snapshot_admin_actions:force_delete' : 'volume:delete_snapshot', snap.project_id);
  const t = force ? SNAPSHOT_TRANSITIONS.force_delete : SNAPSHOT_TRANSITIONS.delete;
  // The snapshot's file is on its volume's host (a snapshot outlives no volume: cascade deletes it).
  const volume = await findVolume(deps.db, snap.volume_id, { projectId: null });
  await deps.db.transaction().execute(async (trx) => {
    const row = await transitionSnapshot(trx, id, t.from, { status: t.to });
    if (!row) throw invalid('snapshot', 'Snapshot status must be available or error and must not be part of a group.');
    await enqueueJob(trx, {
      kind: 'snapshot_delete',
      resourceId: id,
      projectId: snap.project_id,
      hostId: volume ? volumeHostId(volume) : null,
    });
  });
  deps.wakeJobs?.();
}

/** os-reset_status (admin): any of the ten statuses, case-insensitive, applied at once. */
export async function resetSnapshotStatus(deps: VolumeServiceDeps, ctx: RequestContext, id: string, status: string): Promise<void> {
  const snap = await getSnapshotRow(deps.db, ctx, id);
  authorize(ctx, 'volume_extension:snapshot_admin_actions:reset_status', snap.project_id);
  const wanted = status.toLowerCase();
  if (!(SNAPSHOT_STATUSES as readonly string[]).includes(wanted)) {
    throw invalid(null, `Snapshot status: ${status} is invalid, valid statuses are: ${SNAPSHOT_STATUSES.join(', ')}.`);
  }
  const row = await transitionSnapshot(deps.db, id, SNAPSHOT_TRANSITIONS.reset_status.from, { status: wanted });
  if (!row) throw invalid('snapshot', `Snapshot ${id} status changed concurrently; retry.`);
}

/** os-update_snapshot_status (cinder/api/contrib/snapshot_actions.py): creating -> creating/available/error, deleting -> deleting/error_deleting. */
export async function updateSnapshotStatus(
  deps: VolumeServiceDeps,
  ctx: RequestContext,
  id: string,
  status: string,
  progress?: string,
): Promise<void> {
  const snap = await getSnapshotRow(deps.db, ctx, id);
  authorize(ctx, 'snapshot_extension:snapshot_actions:update_snapshot_status', snap.project_id);
  const allowedTargets = SNAPSHOT_UPDATE_STATUS_ALLOWED[snap.status];
  if (!allowedTargets) throw invalid(null, `Snapshot status ${snap.status} not allowed for update_snapshot_status`);
  if (!(allowedTargets as readonly string[]).includes(status)) {
    throw invalid(null, `Provided snapshot status ${status} not allowed for snapshot with status ${snap.status}.`);
  }
  // While this service still copies the snapshot, its file does not exist yet: it cannot be
  // declared available (the action is meant for snapshots another component makes).
  if (status === 'available' && (await hasLiveJob(deps.db, 'snapshot_create', id))) {
    throw invalid(
      null,
      `Provided snapshot status ${status} not allowed for snapshot with status ${snap.status}: the snapshot is still being copied.`,
    );
  }
  const set: { status: string; progress?: string } = { status };
  if (progress !== undefined) set.progress = progress;
  const row = await transitionSnapshot(deps.db, id, [snap.status], set);
  if (!row) throw invalid('snapshot', `Snapshot ${id} status changed concurrently; retry.`);
}
