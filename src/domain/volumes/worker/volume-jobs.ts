import type { JobRow } from '../../../db/schema.js';
import { transitionVolume, findVolume } from '../../../db/volumes-repository.js';
import type { JobHandlers } from '../../../jobs/kinds.js';
import { GiB } from '../../../volumes/volume-backend.js';
import { VOLUME_TRANSITIONS } from '../status.js';
import { withVolumeFrozen } from '../fence.js';
import type { VolumeServiceDeps } from '../read.js';

/**
 * Fills a `creating` volume from a snapshot (an immutable file) or from another
 * volume (frozen by the fence while it is read), then creating -> available, or
 * -> error with the partial file removed. Safe to re-run after a crash.
 */
export async function runVolumeCopy(
  deps: VolumeServiceDeps,
  volumeId: string,
  payload: { snapshotId?: string; sourceVolid?: string },
): Promise<void> {
  const vol = await findVolume(deps.db, volumeId, { projectId: null });
  if (!vol || vol.status !== 'creating') return;
  const t = VOLUME_TRANSITIONS;
  const bytes = vol.size * GiB;
  try {
    await deps.volumes.deleteVolume(volumeId); // a crashed earlier attempt may have left the file
    if (payload.snapshotId) await deps.volumes.createVolumeFromSnapshot(volumeId, payload.snapshotId, bytes);
    else if (payload.sourceVolid) {
      const src = payload.sourceVolid;
      await withVolumeFrozen(deps.db, src, () => deps.volumes.createVolumeFromVolume(volumeId, src, bytes));
    } else throw new Error('volume_copy job without a source');
  } catch {
    await deps.volumes.deleteVolume(volumeId).catch(() => {});
    await transitionVolume(deps.db, volumeId, t.create_failed.from, { status: t.create_failed.to });
    return;
  }
  const done = await transitionVolume(deps.db, volumeId, t.create_done.from, { status: t.create_done.to, launched_at: new Date() });
  if (!done) {
    const now = await findVolume(deps.db, volumeId, { projectId: null });
    if (!now || now.status === 'deleting') await deps.volumes.deleteVolume(volumeId);
  }
}

/** Job handlers by kind, for the worker (services.ts wires them). */
export function volumeJobHandlers(deps: VolumeServiceDeps): JobHandlers<'volume_copy'> {
  return {
    volume_copy: (job: JobRow) => runVolumeCopy(deps, job.resource_id, job.payload as { snapshotId?: string; sourceVolid?: string }),
  };
}
