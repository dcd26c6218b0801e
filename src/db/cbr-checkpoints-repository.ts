import type { Insertable, Updateable } from 'kysely';
import type { Db } from './schema.js';
import { isUuid } from './scope.js';
import type { BackupRow, CbrCheckpointRow, CbrCheckpointsTable, CbrOperationLogRow, CbrOperationLogsTable } from './schema.js';

/** Every query on cbr_checkpoints and cbr_operation_logs. */

export async function insertCheckpoint(db: Db, row: Insertable<CbrCheckpointsTable>): Promise<CbrCheckpointRow> {
  return db.insertInto('cbr_checkpoints').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateCheckpoint(db: Db, id: string, set: Updateable<CbrCheckpointsTable>): Promise<void> {
  await db.updateTable('cbr_checkpoints').set(set).where('id', '=', id).execute();
}

/** Removes a checkpoint row that made no backup (nothing refers to it). */
export async function deleteCheckpoint(db: Db, id: string): Promise<void> {
  await db.deleteFrom('cbr_checkpoints').where('id', '=', id).execute();
}

export async function findCheckpoint(db: Db, id: string, projectId: string): Promise<CbrCheckpointRow | undefined> {
  if (!isUuid(id)) return undefined;
  return db.selectFrom('cbr_checkpoints').selectAll().where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
}

/** The live backups a checkpoint made (those deleted through CBR, kept for dependents, excluded). */
export async function checkpointBackups(db: Db, checkpointId: string): Promise<BackupRow[]> {
  return db
    .selectFrom('backups')
    .selectAll()
    .where('checkpoint_id', '=', checkpointId)
    .where('deleted', '=', false)
    .where('cbr_deleted', '=', false)
    .orderBy('created_at')
    .execute();
}

export async function insertOperationLog(db: Db, row: Insertable<CbrOperationLogsTable>): Promise<CbrOperationLogRow> {
  return db.insertInto('cbr_operation_logs').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findOperationLog(db: Db, id: string, projectId: string): Promise<CbrOperationLogRow | undefined> {
  if (!isUuid(id)) return undefined;
  return db.selectFrom('cbr_operation_logs').selectAll().where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
}

export async function updateOperationLog(db: Db, id: string, set: Updateable<CbrOperationLogsTable>): Promise<void> {
  await db.updateTable('cbr_operation_logs').set(set).where('id', '=', id).execute();
}

export interface OperationLogFilter {
  projectId: string;
  operationType?: string;
  status?: string;
  vaultId?: string;
  vaultName?: string;
  resourceId?: string;
  resourceName?: string;
  startTime?: Date;
  endTime?: Date;
}

function filtered(db: Db, f: OperationLogFilter) {
  let q = db.selectFrom('cbr_operation_logs').where('project_id', '=', f.projectId);
  if (f.operationType !== undefined) q = q.where('operation_type', '=', f.operationType);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.vaultId !== undefined) q = q.where('vault_id', '=', isUuid(f.vaultId) ? f.vaultId : '00000000-0000-0000-0000-000000000000');
  if (f.vaultName !== undefined) q = q.where('vault_name', '=', f.vaultName);
  if (f.resourceId !== undefined)
    q = q.where('resource_id', '=', isUuid(f.resourceId) ? f.resourceId : '00000000-0000-0000-0000-000000000000');
  if (f.resourceName !== undefined) q = q.where('resource_name', '=', f.resourceName);
  if (f.startTime !== undefined) q = q.where('created_at', '>=', f.startTime);
  if (f.endTime !== undefined) q = q.where('created_at', '<=', f.endTime);
  return q;
}

/** One page of operation logs, newest first, and the total matching the filter. */
export async function listOperationLogs(
  db: Db,
  f: OperationLogFilter,
  offset: number,
  limit: number,
): Promise<{ rows: CbrOperationLogRow[]; count: number }> {
  const rows = await filtered(db, f).selectAll().orderBy('created_at', 'desc').orderBy('id').offset(offset).limit(limit).execute();
  const c = await filtered(db, f)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { rows, count: Number(c.n) };
}
