import { randomUUID } from 'node:crypto';
import { hasDependents, updateBackupFields } from '../../../db/backups-repository.js';
import { findCbrBackup, holdCbrDeleted } from '../../../db/cbr-backups-repository.js';
import { insertOperationLog } from '../../../db/cbr-checkpoints-repository.js';
import { findVault } from '../../../db/cbr-vaults-repository.js';
import type { BackupRow, Db } from '../../../db/schema.js';
import { findVolume } from '../../../db/volumes-repository.js';
import { deleteBackup } from '../../backups/actions.js';
import type { BackupApiDeps } from '../../backups/deps.js';
import { restoreBackup } from '../../backups/restore.js';
import type { RequestContext } from '../../common/context.js';
import { DomainError } from '../../common/errors.js';
import { CbrError, cbrInvalid, paramInvalid } from '../errors.js';
import type { CbrBackupView } from './backup-view.js';
import { backupNotFound, showCbrBackup } from './list-backups.js';

/** B3-B5 on one CBR backup, each through the Cinder path that owns the row (one backup record). */

async function cbrBackup(db: Db, ctx: RequestContext, id: string): Promise<BackupRow> {
  const row = await findCbrBackup(db, id, ctx.projectId);
  if (!row) throw backupNotFound(id);
  return row;
}

/** B3: renames (the name is validated by the caller's schema). */
export async function renameCbrBackup(db: Db, ctx: RequestContext, id: string, name: string): Promise<CbrBackupView> {
  const row = await cbrBackup(db, ctx, id);
  await updateBackupFields(db, row.id, { display_name: name });
  return showCbrBackup(db, ctx, id);
}

async function logFields(db: Db, ctx: RequestContext, row: BackupRow) {
  const vault = row.vault_id ? await findVault(db, row.vault_id, ctx.projectId) : undefined;
  const volume = await findVolume(db, row.volume_id, { projectId: null });
  return {
    id: randomUUID(),
    project_id: ctx.projectId,
    checkpoint_id: row.checkpoint_id,
    policy_id: null,
    vault_id: row.vault_id,
    vault_name: vault?.name ?? null,
    resource_id: row.volume_id,
    resource_name: volume?.display_name ?? '',
    backup_id: row.id,
    backup_name: row.display_name,
    incremental: row.parent_id !== null,
    extra: JSON.stringify({ request_id: ctx.requestId }),
  };
}

/**
 * B4 (answered 204; the backup then 404s). A backup later incrementals restore through is held:
 * it leaves every CBR view now, and its data is deleted once its last dependent is (job-hooks.ts).
 * Otherwise the Cinder delete runs, with a `delete` operation log settled by its job.
 */
export async function deleteCbrBackup(deps: BackupApiDeps, ctx: RequestContext, id: string): Promise<void> {
  const row = await cbrBackup(deps.db, ctx, id);
  if (row.status === 'creating' || row.status === 'restoring') throw cbrInvalid('6203', `Backup ${id} is in progress (${row.status}).`);
  if (row.status === 'deleting') return;
  const fields = await logFields(deps.db, ctx, row);
  const hold = async () => {
    const held = await deps.db.transaction().execute(async (trx) => {
      const r = await holdCbrDeleted(trx, row.id, ['available', 'error']);
      if (r) {
        const now = new Date();
        await insertOperationLog(trx, {
          ...fields,
          operation_type: 'delete',
          status: 'success',
          started_at: now,
          ended_at: now,
          target_resource_id: null,
          job_id: null,
        });
      }
      return r;
    });
    if (!held) throw cbrInvalid('6201', `Backup ${id} cannot be deleted in its current status.`);
  };
  if (await hasDependents(deps.db, row.id)) return hold();
  try {
    await deleteBackup(deps, ctx, row.id, {
      inTransaction: async (trx) => {
        await insertOperationLog(trx, { ...fields, operation_type: 'delete', target_resource_id: null, job_id: null });
      },
    });
  } catch (err) {
    if (!(err instanceof DomainError) || err instanceof CbrError) throw err;
    // An incremental took it as parent between the check and the delete.
    if (await hasDependents(deps.db, row.id)) return hold();
    throw cbrInvalid('6201', err.message);
  }
}

/**
 * B5: restores into an existing volume of the project through the Cinder restore job; returns the
 * id of the `restore` operation log written in the same transaction (the client polls it).
 */
export async function restoreCbrBackup(
  deps: BackupApiDeps,
  ctx: RequestContext,
  id: string,
  input: { volumeId?: string; resourceId?: string },
): Promise<{ jobId: string }> {
  const row = await cbrBackup(deps.db, ctx, id);
  const targetId = input.volumeId ?? input.resourceId;
  if (!targetId) throw paramInvalid('restore.volume_id', 'a target volume_id (or resource_id) is required');
  const target = await findVolume(deps.db, targetId, { projectId: ctx.projectId });
  if (!target) throw paramInvalid('restore.volume_id', `volume ${targetId} could not be found`);
  if (row.status !== 'available') throw cbrInvalid('2005', `Backup status ${row.status} does not allow restore.`);
  if (target.status === 'backing-up') throw cbrInvalid('2002', 'The resource is being backed up, restore later.');
  if (target.status === 'restoring-backup') throw cbrInvalid('2010', 'The resource is being restored.');
  if (target.status !== 'available') throw paramInvalid('restore.volume_id', `volume status ${target.status} does not allow restore`);
  if (target.size < row.size) throw cbrInvalid('2001', `Target disk (${target.size} GB) is smaller than the backup (${row.size} GB).`);
  const fields = await logFields(deps.db, ctx, row);
  try {
    await restoreBackup(
      deps,
      ctx,
      row.id,
      { volumeId: target.id, name: null },
      {
        inTransaction: async (trx, job) => {
          await insertOperationLog(trx, { ...fields, operation_type: 'restore', target_resource_id: target.id, job_id: job.id });
        },
      },
    );
  } catch (err) {
    if (!(err instanceof DomainError) || err instanceof CbrError) throw err;
    // The backup or the volume changed state after the checks above.
    throw cbrInvalid('2005', err.message);
  }
  return { jobId: fields.id };
}
