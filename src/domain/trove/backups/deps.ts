import type { BackupLocation, BackupEngine } from '../../../engine/engine-api.js';
import type { TroveBackupRow } from '../../../db/schema.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import type { TroveDeps } from '../instances/runtime.js';

/** What the API side needs: where new backups go. */
export interface TroveBackupApiDeps extends TroveDeps {
  store: Pick<ObjectStore, 'defaultContainer'>;
}

/** What the jobs need beyond Trove's deps: the store and the chunked engine volume backups use. */
export interface TroveBackupDeps extends TroveDeps {
  store: ObjectStore;
  engine: BackupEngine;
}

/** Statuses (section 1.5). */
export const TroveBackupStatus = {
  NEW: 'NEW',
  BUILDING: 'BUILDING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  DELETE_FAILED: 'DELETE_FAILED',
} as const;

/** Every Trove backup's objects start with this (the orphan GC scans it). */
export const TROVE_PREFIX_ROOT = 'trove_';

export function troveBackupPrefix(instanceId: string, backupId: string): string {
  return `${TROVE_PREFIX_ROOT}${instanceId}/${backupId}`;
}

export function locationOf(row: Pick<TroveBackupRow, 'container' | 'prefix'>): BackupLocation {
  return { container: row.container, prefix: row.prefix };
}

/** Trove's utils.to_gb: GB with 2 decimals, at least 0.01 (0 only for 0 bytes). */
export function toGb(bytes: number): number {
  return bytes === 0 ? 0 : Math.max(Math.round((bytes / 1024 ** 3) * 100) / 100, 0.01);
}
