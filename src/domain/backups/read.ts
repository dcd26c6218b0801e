import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import { type BackupViewSelection, findBackupView } from '../../db/backup-views-repository.js';
import { findBackup } from '../../db/backups-repository.js';
import type { BackupRow, BackupViewRow, Database } from '../../db/schema.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { RequestContext } from '../common/context.js';
import { notFound } from '../common/errors.js';
import { type PolicyRule, authorize } from '../common/policy.js';
import { readScope } from '../common/scope.js';

/** What the backup API's domain functions need (the worker needs more: BackupManagerDeps in worker/settle.ts). */
export interface BackupApiDeps {
  db: Kysely<Database>;
  config: Config;
  /** Only its serviceName/defaultContainer are used by the API (export record). */
  store: Pick<ObjectStore, 'serviceName' | 'defaultContainer'>;
}

/** A backup as the API shows it: the row and its metadata map. */
export interface BackupView {
  row: BackupRow;
  metadata: Record<string, string>;
}

/**
 * Loads a backup the caller may see and checks `rule` against its project.
 * Throws 404 "Backup <id> could not be found." (also for other projects' backups) or 403.
 */
export async function getBackupFor(deps: Pick<BackupApiDeps, 'db'>, ctx: RequestContext, id: string, rule: PolicyRule): Promise<BackupRow> {
  const row = await findBackup(deps.db, id, readScope(ctx));
  if (!row) throw notFound('Backup', id);
  authorize(ctx, rule, row.project_id);
  return row;
}

/** GET /backups/{id}: what the view shows (`selection`), in one query. Throws as getBackupFor. */
export async function showBackup(
  deps: Pick<BackupApiDeps, 'db'>,
  ctx: RequestContext,
  id: string,
  selection: BackupViewSelection,
): Promise<BackupViewRow> {
  const row = await findBackupView(deps.db, id, readScope(ctx), selection);
  if (!row) throw notFound('Backup', id);
  authorize(ctx, 'backup:get', row.project_id);
  return row;
}
