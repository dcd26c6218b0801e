import { randomUUID } from 'node:crypto';
import { transitionBackup } from '../../../db/backups-repository.js';
import { insertOperationLog } from '../../../db/cbr-checkpoints-repository.js';
import { liveBackupsOfVault, removingResources, succeedVaultLogs } from '../../../db/cbr-vault-contents-repository.js';
import { findVault, removeVault, removeVaultResources, transitionVault, vaultResources } from '../../../db/cbr-vaults-repository.js';
import type { BackupRow, CbrVaultRow, Db } from '../../../db/schema.js';
import { enqueueJob } from '../../../jobs/kinds.js';
import { BACKUP_TRANSITIONS } from '../../backups/status.js';
import type { RequestContext } from '../../common/context.js';
import { cbrInvalid, vaultNotFound } from '../errors.js';

const IN_PROGRESS = ['creating', 'restoring'];

/** Refuses while a backup among `backups` is being made or restored (BackupService.6203). */
export function refuseRunning(backups: readonly BackupRow[]): void {
  const running = backups.find((b) => IN_PROGRESS.includes(b.status));
  if (running) throw cbrInvalid('6203', `Backup ${running.id} is in progress (${running.status}).`);
}

/**
 * Moves every given backup to `deleting` and queues its delete job (objects removed by a
 * worker). A whole chain goes at once, so a parent's dependents do not hold it. Needs a transaction.
 */
export async function queueBackupDeletes(trx: Db, backups: readonly BackupRow[]): Promise<void> {
  for (const b of backups) {
    if (b.status === 'deleting') continue;
    const moved = await transitionBackup(trx, b.id, BACKUP_TRANSITIONS.delete.from, { status: 'deleting' });
    if (moved) await enqueueJob(trx, { kind: 'delete_backup', resourceId: b.id });
  }
}

/**
 * V5: the vault goes `deleting` (GET still answers, billing.status deleting), its volumes and
 * policy are unbound, every backup it holds is queued for deletion with its objects, and a
 * `vault_delete` operation log is written. The job hooks remove it (GET 404) when the last
 * delete job finishes; an empty vault goes at once. Throws 6105 (404) unknown, 6112 status, 6203 a backup running.
 */
export async function deleteVault(db: Db, ctx: RequestContext, id: string): Promise<void> {
  const vault = await findVault(db, id, ctx.projectId);
  if (!vault) throw vaultNotFound(id);
  if (vault.status === 'deleting') return;
  await db.transaction().execute(async (trx) => {
    const moved = await transitionVault(trx, vault.id, ['available', 'error'], 'deleting');
    if (!moved) throw cbrInvalid('6112', `Vault status ${vault.status} does not allow delete.`);
    const backups = await liveBackupsOfVault(trx, vault.id);
    refuseRunning(backups);
    await queueBackupDeletes(trx, backups);
    const bound = await vaultResources(trx, [vault.id]);
    await removeVaultResources(
      trx,
      vault.id,
      bound.map((r) => r.volume.id),
    );
    await trx.deleteFrom('cbr_policy_vaults').where('vault_id', '=', vault.id).execute();
    await insertOperationLog(trx, {
      id: randomUUID(),
      project_id: ctx.projectId,
      operation_type: 'vault_delete',
      status: backups.length ? 'waiting' : 'success',
      checkpoint_id: null,
      policy_id: null,
      vault_id: vault.id,
      vault_name: vault.name,
      resource_id: null,
      resource_name: null,
      backup_id: null,
      backup_name: null,
      target_resource_id: null,
      job_id: null,
      incremental: null,
      started_at: new Date(),
      ...(backups.length ? {} : { ended_at: new Date() }),
      extra: JSON.stringify({ request_id: ctx.requestId, vault_delete: { total_count: backups.length, fail_count: 0 } }),
    });
    // Nothing to delete: the vault goes now (GET 404); else the last delete job removes it (worker/removal-logs.ts).
    if (backups.length === 0) await removeVault(trx, vault.id);
  });
}

/**
 * Retries a vault's removals on every read of it (the job hooks settle them as deletes finish): the backups of a `deleting` vault (and
 * of resources being removed) that are not yet queued (made since, or failed to delete) are
 * queued again; a removal whose backups are all gone is logged success; a `deleting` vault with
 * nothing left disappears. Returns false when the vault is gone.
 */
export async function settleVault(db: Db, vault: CbrVaultRow): Promise<boolean> {
  const removing = await removingResources(db, vault.id);
  if (vault.status !== 'deleting' && removing.length === 0) return true;
  const left = await liveBackupsOfVault(db, vault.id, vault.status === 'deleting' ? undefined : removing);
  const stragglers = left.filter((b) => (BACKUP_TRANSITIONS.delete.from as readonly string[]).includes(b.status));
  if (stragglers.length) await db.transaction().execute((trx) => queueBackupDeletes(trx, stragglers));
  const done = removing.filter((id) => !left.some((b) => b.volume_id === id));
  await succeedVaultLogs(db, vault.id, 'remove_resource', done);
  if (vault.status !== 'deleting' || left.length > 0) return true;
  await db.transaction().execute(async (trx) => {
    await removeVault(trx, vault.id);
    await succeedVaultLogs(trx, vault.id, 'vault_delete');
    await succeedVaultLogs(trx, vault.id, 'remove_resource');
  });
  return false;
}
