import type { Logger } from 'pino';
import { clearJobPayload } from '../../../db/jobs-repository.js';
import type { JobRow, TroveInstanceRow } from '../../../db/schema.js';
import { createDatabasesAndUsers } from '../../../db/trove-cluster-sql.js';
import { findInstance, markInstanceDeleted, transitionInstance } from '../../../db/trove-instances-repository.js';
import type { JobHandlers } from '../../../jobs/kinds.js';
import { destroyCluster, initCluster, runningPid, startCluster, startPreparedCluster, stopCluster } from '../cluster/cluster.js';
import type { NewUser } from './create.js';
import { type TroveDeps, pathsOf, settingsOf } from './runtime.js';
import { InstanceStatus, OperatingStatus, TRANSITIONS } from './status.js';

/** Sets BUILD -> ERROR with a reason (compare-and-set), stopping what was started. */
export async function failInstance(deps: TroveDeps, row: TroveInstanceRow, reason: string): Promise<void> {
  await stopCluster(pathsOf(deps.config, row)).catch(() => {});
  const [from, to] = TRANSITIONS.build_failed;
  await transitionInstance(deps.db, row.id, from, {
    status: to,
    operating_status: OperatingStatus.ERROR,
    fault_message: reason.slice(0, 4000),
  });
}

/** BUILD -> ACTIVE/HEALTHY (compare-and-set); false when the instance left BUILD meanwhile. */
async function markBuilt(deps: TroveDeps, id: string): Promise<boolean> {
  const [from, to] = TRANSITIONS.built;
  return (
    (await transitionInstance(deps.db, id, from, { status: to, operating_status: OperatingStatus.HEALTHY, fault_message: null })) !==
    undefined
  );
}

/**
 * Builds a new instance: initdb, start, databases and users, then ACTIVE; ERROR with the
 * reason on any failure. Safe to re-run (a half-made data directory is made again).
 */
export async function runCreateInstance(deps: TroveDeps, job: JobRow, log: Logger): Promise<void> {
  const row = await findInstance(deps.db, job.resource_id);
  if (!row || row.status !== InstanceStatus.BUILD) return;
  const paths = pathsOf(deps.config, row);
  const payload = job.payload as { databases?: string[]; users?: NewUser[] };
  try {
    await stopCluster(paths).catch(() => {});
    await initCluster(paths);
    const settings = settingsOf(deps.config, row);
    await startCluster(paths, settings);
    await createDatabasesAndUsers(paths.run, settings.port, payload.databases ?? [], payload.users ?? []);
    await clearJobPayload(deps.db, job.id);
    if (!(await markBuilt(deps, row.id))) await stopCluster(paths).catch(() => {});
    log.info({ instance_id: row.id, port: row.port }, 'trove instance built');
  } catch (err) {
    await clearJobPayload(deps.db, job.id).catch(() => {});
    log.warn({ err, instance_id: row.id }, 'trove instance build failed');
    await failInstance(deps, row, `Instance build failed: ${(err as Error).message}`);
  }
}

/**
 * For restores (trove-backups): the restored files are in the instance's pgdata and the
 * WAL segments in `walDir`; recovers, starts, and sets ACTIVE, or ERROR with the reason.
 * Returns true when the instance became ACTIVE.
 */
export async function finishRestoredInstance(deps: TroveDeps, instanceId: string, walDir: string): Promise<boolean> {
  const row = await findInstance(deps.db, instanceId);
  if (!row || row.status !== InstanceStatus.BUILD) return false;
  try {
    await startPreparedCluster(pathsOf(deps.config, row), settingsOf(deps.config, row), walDir);
    return await markBuilt(deps, row.id);
  } catch (err) {
    await failInstance(deps, row, `Restore failed: ${(err as Error).message}`);
    return false;
  }
}

/** Deletes a SHUTDOWN instance: stops its cluster, removes its files, marks the row deleted. */
export async function runDeleteInstance(deps: TroveDeps, job: JobRow): Promise<void> {
  const row = await findInstance(deps.db, job.resource_id);
  if (!row || row.status !== InstanceStatus.SHUTDOWN) return;
  const paths = pathsOf(deps.config, row);
  await destroyCluster(paths);
  // NOTE: a supervisor tick that read the row before SHUTDOWN may have started it again.
  if (runningPid(paths) !== null) await destroyCluster(paths);
  await markInstanceDeleted(deps.db, row.id);
}

/** The Trove instance job handlers, by kind. */
export function troveInstanceJobHandlers(deps: TroveDeps): JobHandlers<'trove_instance_create' | 'trove_instance_delete'> {
  return {
    trove_instance_create: async (job, ctx) => runCreateInstance(deps, job, ctx.log),
    trove_instance_delete: async (job) => runDeleteInstance(deps, job),
  };
}
