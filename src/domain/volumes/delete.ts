import { enqueueJob } from '../../jobs/kinds.js';
import { markSnapshotsDeleting } from '../../db/snapshots-repository.js';
import { transitionVolume, transitionVolumeToDeleting, liveSnapshotsOf, softDeleteVolume } from '../../db/volumes-repository.js';
import type { RequestContext } from '../common/context.js';
import { invalid } from '../common/errors.js';
import { authorize } from '../common/policy.js';
import { VOLUME_TRANSITIONS } from './status.js';
import { withVolumeWriteFence } from './fence.js';
import { volumeHostId } from './host.js';
import { type VolumeServiceDeps, getVolumeRow } from './read.js';

export interface DeleteVolumeOptions {
  cascade: boolean;
  /** `?force=true` (>= 3.23) or os-force_delete: any status but attached/with snapshots. */
  force: boolean;
  /** Which rule guards force: the query flag or the admin action. */
  forceRule?: 'volume:force_delete' | 'volume_extension:volume_admin_actions:force_delete';
}

const REFUSED =
  'Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';

/**
 * DELETE /volumes/{id}: one CAS to `deleting` (status, not attached, no snapshots
 * unless cascade); cascade marks the snapshots `deleting` and queues their jobs in the
 * same transaction. The file is removed in the request (unlinking a sparse file is
 * instant), then the row is soft-deleted. Backups never block deletion.
 */
export async function deleteVolume(deps: VolumeServiceDeps, ctx: RequestContext, id: string, opts: DeleteVolumeOptions): Promise<void> {
  const vol = await getVolumeRow(deps.db, ctx, id);
  authorize(ctx, 'volume:delete', vol.project_id);
  if (opts.force) authorize(ctx, opts.forceRule ?? 'volume:force_delete', vol.project_id);
  const t = opts.force ? VOLUME_TRANSITIONS.force_delete : VOLUME_TRANSITIONS.delete;
  // Fenced from the start: a volume being copied (clone source) is refused before any change.
  await withVolumeWriteFence(deps.db, id, async () => {
    const snapshotIds = await deps.db.transaction().execute(async (trx) => {
      const row = await transitionVolumeToDeleting(trx, id, t.from, opts.cascade);
      if (!row) throw invalid('volume', REFUSED);
      if (!opts.cascade) return [];
      const ids = await markSnapshotsDeleting(trx, id);
      const busy = (await liveSnapshotsOf(trx, id)).filter((s) => s.status !== 'deleting');
      if (busy.length)
        throw invalid('volume', `Snapshot ${busy[0]!.id} of volume ${id} is in status ${busy[0]!.status}; cannot cascade delete.`);
      for (const sid of ids)
        await enqueueJob(trx, { kind: 'snapshot_delete', resourceId: sid, projectId: vol.project_id, hostId: volumeHostId(row) });
      return ids;
    });
    if (snapshotIds.length) deps.wakeJobs?.();
    try {
      await deps.volumes.deleteVolume(id);
    } catch (err) {
      await transitionVolume(deps.db, id, ['deleting'], { status: 'error_deleting' });
      throw err;
    }
    await softDeleteVolume(deps.db, id);
  });
}
