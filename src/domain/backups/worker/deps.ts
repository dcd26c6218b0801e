/**
 * What the backup worker is built from, the host it records, and where a backup's objects are.
 */
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Config } from '../../../config.js';
import type { BackupRow, Database } from '../../../db/schema.js';
import type { BackupEngine, BackupLocation } from '../../../engine/engine-api.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import type { VolumeBackend } from '../../../volumes/volume-backend.js';

/** What the backup manager (job handlers, recovery) is built from. */
export interface BackupManagerDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  engine: BackupEngine;
  volumes: VolumeBackend;
  config: Config;
}

/** The host name recorded on backups this process works on (Cinder's `host`). */
export const BACKUP_HOST = `${hostname()}@backup`;

/** Where a backup's objects are, or null when it never reached the store. */
export function locationOf(row: Pick<BackupRow, 'container' | 'service_metadata'>): BackupLocation | null {
  return row.container && row.service_metadata ? { container: row.container, prefix: row.service_metadata } : null;
}
