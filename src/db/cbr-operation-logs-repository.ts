import { sql, type Updateable } from 'kysely';
import type { CbrOperationLogRow, CbrOperationLogsTable, Db } from './schema.js';

/** Operation-log queries of the CBR tasks surface and of the job hooks that move their status. */

const ACTIVE = ['waiting', 'running'];

/** The unfinished logs a job works for: by job id (restore), or by backup and type (backup, delete). */
export async function activeOperationLogs(
  db: Db,
  by: { jobId: number } | { backupId: string; operationType: string },
): Promise<CbrOperationLogRow[]> {
  let q = db.selectFrom('cbr_operation_logs').selectAll().where('status', 'in', ACTIVE);
  q =
    'jobId' in by
      ? q.where('job_id', '=', by.jobId)
      : q.where('backup_id', '=', by.backupId).where('operation_type', '=', by.operationType);
  return q.execute();
}

/** The unfinished removals a backup's delete works for: its vault's `vault_delete` and its volume's `remove_resource`. */
export async function activeRemovalLogs(db: Db, vaultId: string, volumeId: string): Promise<CbrOperationLogRow[]> {
  return db
    .selectFrom('cbr_operation_logs')
    .selectAll()
    .where('status', 'in', ACTIVE)
    .where('vault_id', '=', vaultId)
    .where((eb) =>
      eb.or([
        eb('operation_type', '=', 'vault_delete'),
        eb.and([eb('operation_type', '=', 'remove_resource'), eb('resource_id', '=', volumeId)]),
      ]),
    )
    .execute();
}

/** Compare-and-set of an operation log's status (waiting -> running -> success | failed). */
export async function transitionOperationLog(
  db: Db,
  id: string,
  from: readonly string[],
  set: Updateable<CbrOperationLogsTable>,
): Promise<CbrOperationLogRow | undefined> {
  return db
    .updateTable('cbr_operation_logs')
    .set({ ...set, updated_at: sql<Date>`now()` as unknown as Date })
    .where('id', '=', id)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
}
