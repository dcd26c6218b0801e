import type { Config } from '../../../config.js';
import type { Db, TroveInstanceRow } from '../../../db/schema.js';
import { findFlavor, sharedBuffersMb } from '../catalog.js';
import { type InstancePaths, instancePaths } from '../cluster/paths.js';
import type { ClusterSettings } from '../cluster/settings.js';

/** What Trove's domain functions need. */
export interface TroveDeps {
  db: Db;
  config: Config;
  /** Tells this process's job worker that work was queued. */
  wakeJobs?: () => void;
}

/** This process's host (HOST_ID, default the hostname): instances live where their DATA_DIR is. */
export function troveHostId(config: Config): string {
  return config.HOST_ID;
}

/** The instance's files on this host. */
export function pathsOf(config: Config, row: Pick<TroveInstanceRow, 'id'>): InstancePaths {
  return instancePaths(config.DATA_DIR, row.id);
}

/** How the instance's cluster starts: its port, the configured host, memory from its flavor. */
export function settingsOf(config: Config, row: Pick<TroveInstanceRow, 'port' | 'flavor_id'>): ClusterSettings {
  return { host: config.TROVE_INSTANCE_HOST, port: row.port, sharedBuffersMb: sharedBuffersMb(findFlavor(config, row.flavor_id)) };
}

/** TROVE_INSTANCE_PORTS as [first, last]. */
export function portRange(config: Config): [number, number] {
  const [a, b] = config.TROVE_INSTANCE_PORTS.split('-').map(Number) as [number, number];
  return [a, b];
}
