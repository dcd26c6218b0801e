import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { BackupRow, Database } from '../../db/schema.js';
import type { ObjectStore } from '../../storage/object-store.js';

/** What the backup API's domain functions need (the worker needs more: BackupManagerDeps in worker/deps.ts). */
export interface BackupApiDeps {
  db: Kysely<Database>;
  config: Config;
  /** Only its serviceName/defaultContainer are used by the API (export record). */
  store: Pick<ObjectStore, 'serviceName' | 'defaultContainer'>;
}

/** A backup as create, the actions and import answer it: the row and its metadata map. */
export interface BackupView {
  row: BackupRow;
  metadata: Record<string, string>;
}
