/**
 * The `delete_backup` job.
 */
import { findBackupAnyState } from '../../../db/backups-repository.js';
import type { JobRow } from '../../../db/schema.js';
import type { BackupManagerDeps } from './deps.js';
import { completeDelete } from './settle.js';

/** The `delete_backup` job: naturally resumable (deleting objects twice is harmless). */
export async function runDeleteJob(deps: BackupManagerDeps, job: JobRow): Promise<void> {
  const row = await findBackupAnyState(deps.db, job.resource_id);
  if (!row || row.deleted || row.status !== 'deleting') return;
  await completeDelete(deps, row);
}
