import type { Logger } from 'pino';
import type { TroveInstanceRow } from '../../../db/schema.js';
import { findInstance, instancesOnHost } from '../../../db/trove-instances-repository.js';
import { runningPid, startCluster, stopCluster } from '../cluster/cluster.js';
import { type TroveDeps, pathsOf, settingsOf, troveHostId } from './runtime.js';
import { RUNNING_STATUSES } from './status.js';

export interface InstanceSupervisor {
  /** Restarts counted since start, by instance id. */
  restarts(): ReadonlyMap<string, number>;
  /** Stops watching; unless TROVE_LEAVE_INSTANCES_RUNNING, stops every cluster of this host cleanly. */
  stop(): Promise<void>;
}

/**
 * Keeps the clusters of this host's ACTIVE/BACKUP instances running: at start every one
 * is started or adopted (its postmaster survived us), then every TROVE_SUPERVISE_INTERVAL_MS
 * a cluster found dead is started again.
 */
export async function startInstanceSupervisor(deps: TroveDeps, log: Logger): Promise<InstanceSupervisor> {
  const hostId = troveHostId(deps.config);
  const restarts = new Map<string, number>();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let tick: Promise<void> = Promise.resolve();

  async function ensure(row: TroveInstanceRow, initial: boolean): Promise<void> {
    const paths = pathsOf(deps.config, row);
    if (runningPid(paths) !== null && !initial) return;
    // NOTE: re-read: a delete may have moved it to SHUTDOWN since the list was read.
    const fresh = await findInstance(deps.db, row.id);
    if (stopping || !fresh || !RUNNING_STATUSES.includes(fresh.status as (typeof RUNNING_STATUSES)[number])) return;
    try {
      const how = await startCluster(paths, settingsOf(deps.config, fresh));
      if (!initial) restarts.set(row.id, (restarts.get(row.id) ?? 0) + 1);
      log[initial ? 'info' : 'warn'](
        { instance_id: row.id, port: row.port, how },
        initial ? 'trove instance up' : 'trove instance restarted',
      );
    } catch (err) {
      log.warn({ err, instance_id: row.id }, 'trove instance could not be started; retrying');
    }
  }

  async function pass(initial: boolean): Promise<void> {
    try {
      const rows = await instancesOnHost(deps.db, hostId, RUNNING_STATUSES);
      for (const row of rows) if (!stopping) await ensure(row, initial);
    } catch (err) {
      log.warn({ err }, 'trove supervisor pass failed');
    }
  }

  function schedule(): void {
    if (stopping) return;
    timer = setTimeout(() => {
      tick = pass(false).finally(schedule);
    }, deps.config.TROVE_SUPERVISE_INTERVAL_MS);
  }

  await pass(true);
  schedule();
  return {
    restarts: () => restarts,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await tick;
      if (deps.config.TROVE_LEAVE_INSTANCES_RUNNING) return;
      const rows = await instancesOnHost(deps.db, hostId).catch(() => []);
      for (const row of rows)
        await stopCluster(pathsOf(deps.config, row)).catch((err) => log.warn({ err, instance_id: row.id }, 'stop failed'));
    },
  };
}
