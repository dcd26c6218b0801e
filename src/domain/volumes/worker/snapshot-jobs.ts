import { transitionSnapshot, findSnapshot, setSnapshotProgress, softDeleteSnapshot } from '../../../db/snapshots-repository.js';
import type { JobRow } from '../../../db/schema.js';
import type { JobHandlers } from '../../../jobs/kinds.js';
import { SNAPSHOT_TRANSITIONS } from '../status.js';
import { withVolumeFrozen } from '../fence.js';
import type { VolumeServiceDeps } from '../read.js';

const ALL = { projectId: null };
const PROGRESS_EVERY_MS = 500;

/**
 * Copies the volume into the snapshot while no data-extension write or extend is in
 * flight (the volume fence), writing real progress ("N%") as it goes, then
 * creating -> available, or -> error with the partial file removed. Safe to re-run.
 */
export async function runSnapshotCreate(deps: VolumeServiceDeps, snapshotId: string): Promise<void> {
  const snap = await findSnapshot(deps.db, snapshotId, ALL);
  if (!snap || snap.status !== 'creating') return; // reset, deleted or already done
  const t = SNAPSHOT_TRANSITIONS;
  let lastWrite = 0;
  let pending: Promise<unknown> = Promise.resolve();
  const onProgress = (fraction: number) => {
    const now = Date.now();
    if (now - lastWrite < PROGRESS_EVERY_MS || fraction >= 1) return;
    lastWrite = now;
    pending = pending.then(() => setSnapshotProgress(deps.db, snapshotId, `${Math.floor(fraction * 100)}%`)).catch(() => {});
  };
  try {
    await withVolumeFrozen(deps.db, snap.volume_id, () => deps.volumes.createSnapshot(snapshotId, snap.volume_id, onProgress));
  } catch {
    await pending;
    await deps.volumes.deleteSnapshot(snapshotId).catch(() => {});
    await transitionSnapshot(deps.db, snapshotId, t.create_failed.from, { status: t.create_failed.to });
    return;
  }
  await pending;
  const done = await transitionSnapshot(deps.db, snapshotId, t.create_done.from, { status: t.create_done.to, progress: '100%' });
  if (!done) {
    // Force-deleted (or reset) while copying: do not leave the file behind a deleting row.
    const now = await findSnapshot(deps.db, snapshotId, ALL);
    if (!now || now.status === 'deleting') await deps.volumes.deleteSnapshot(snapshotId);
  }
}

/** Removes the snapshot's file, then deleting -> soft-deleted (or error_deleting). */
export async function runSnapshotDelete(deps: VolumeServiceDeps, snapshotId: string): Promise<void> {
  try {
    await deps.volumes.deleteSnapshot(snapshotId);
  } catch {
    const t = SNAPSHOT_TRANSITIONS.delete_failed;
    await transitionSnapshot(deps.db, snapshotId, t.from, { status: t.to });
    return;
  }
  await softDeleteSnapshot(deps.db, snapshotId);
}

/** Job handlers by kind, for the worker (services.ts wires them). */
export function snapshotJobHandlers(deps: VolumeServiceDeps): JobHandlers<'snapshot_create' | 'snapshot_delete'> {
  return {
    snapshot_create: (job: JobRow) => runSnapshotCreate(deps, job.resource_id),
    snapshot_delete: (job: JobRow) => runSnapshotDelete(deps, job.resource_id),
  };
}
