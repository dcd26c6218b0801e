import { randomUUID } from 'node:crypto';
import { insertOperationLog } from '../../../db/cbr-checkpoints-repository.js';
import { countVaultResources, liveBackupsOfVault } from '../../../db/cbr-vault-contents-repository.js';
import { addVaultResources, lockVault, removeVaultResources, vaultResources, vaultsOfVolumes } from '../../../db/cbr-vaults-repository.js';
import type { CbrVaultRow, Db } from '../../../db/schema.js';
import { findVolume } from '../../../db/volumes-repository.js';
import type { RequestContext } from '../../common/context.js';
import { cbrInvalid, paramInvalid, vaultNotFound } from '../errors.js';
import { VOLUME_TYPE } from '../time.js';
import { queueBackupDeletes, refuseRunning } from './delete-vault.js';

export interface ResourceInput {
  id: string;
  type: string;
  name?: string;
}

/** At most this many volumes per vault (BackupService.6100). */
export const MAX_VAULT_RESOURCES = 256;

/** The live vault for a change: 404 unknown, 6112 while it is being deleted. Locks it (needs a transaction). */
export async function vaultForChange(trx: Db, ctx: RequestContext, id: string): Promise<CbrVaultRow> {
  const vault = await lockVault(trx, id).catch(() => undefined);
  if (!vault || vault.project_id !== ctx.projectId) throw vaultNotFound(id);
  if (vault.status !== 'available') throw cbrInvalid('6112', `Vault status ${vault.status} does not allow this operation.`);
  return vault;
}

/**
 * Binds volumes of the caller's project to the vault: 6104 duplicate, 6102 not a volume,
 * 6103 already in a vault (this one included), 6100 over 256. Needs a transaction holding the vault lock.
 */
export async function bindResources(
  trx: Db,
  ctx: RequestContext,
  vault: CbrVaultRow,
  resources: readonly ResourceInput[],
  field: string,
): Promise<string[]> {
  const ids = resources.map((r) => r.id);
  if (new Set(ids).size !== ids.length) throw cbrInvalid('6104', 'Duplicate resource.');
  for (const [i, r] of resources.entries()) {
    if (r.type !== VOLUME_TYPE)
      throw cbrInvalid('6102', `Resource ${r.id} of type ${r.type} does not match the vault's resource type ${VOLUME_TYPE}.`);
    if (!(await findVolume(trx, r.id, { projectId: ctx.projectId })))
      throw paramInvalid(`${field}[${i}].id`, `volume ${r.id} could not be found`);
  }
  const bound = await vaultsOfVolumes(trx, ids);
  const taken = ids.find((id) => bound.has(id));
  if (taken)
    throw cbrInvalid(bound.get(taken) === vault.id ? '6104' : '6103', `Resource ${taken} is already in vault ${bound.get(taken)}.`);
  if ((await countVaultResources(trx, vault.id)) + ids.length > MAX_VAULT_RESOURCES) {
    throw cbrInvalid('6100', `Resources of vault over limit: ${MAX_VAULT_RESOURCES}`);
  }
  try {
    await addVaultResources(
      trx,
      vault.id,
      resources.map((r) => ({ volumeId: r.id, name: r.name ?? null })),
    );
  } catch (err) {
    // The unique index on volume_id: another vault took one of them concurrently.
    if ((err as { code?: string }).code === '23505') throw cbrInvalid('6103', 'Resource already in other vault.');
    throw err;
  }
  return ids;
}

/** V6: binds volumes to the vault; returns their ids. */
export async function addResources(db: Db, ctx: RequestContext, vaultId: string, resources: readonly ResourceInput[]): Promise<string[]> {
  return db.transaction().execute(async (trx) => bindResources(trx, ctx, await vaultForChange(trx, ctx, vaultId), resources, 'resources'));
}

/**
 * V7: unbinds volumes (6135 when one is not in the vault) and deletes their backups in this
 * vault through delete jobs, one `remove_resource` operation log per volume (success once its
 * backups are gone, settled by the job hooks as the deletes finish).
 */
export async function removeResources(db: Db, ctx: RequestContext, vaultId: string, ids: readonly string[]): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const vault = await vaultForChange(trx, ctx, vaultId);
    const bound = new Map((await vaultResources(trx, [vault.id])).map((r) => [r.volume.id, r]));
    const missing = ids.find((id) => !bound.has(id));
    if (missing) throw cbrInvalid('6135', `Resource ${missing} is not in vault ${vault.id}.`);
    const backups = await liveBackupsOfVault(trx, vault.id, ids);
    refuseRunning(backups);
    await queueBackupDeletes(trx, backups);
    await removeVaultResources(trx, vault.id, ids);
    const now = new Date();
    for (const id of ids) {
      const mine = backups.filter((b) => b.volume_id === id);
      const r = bound.get(id)!;
      await insertOperationLog(trx, {
        id: randomUUID(),
        project_id: ctx.projectId,
        operation_type: 'remove_resource',
        // waiting until the first of its delete jobs runs; the job hooks settle it (worker/removal-logs.ts).
        status: mine.length ? 'waiting' : 'success',
        checkpoint_id: null,
        policy_id: null,
        vault_id: vault.id,
        vault_name: vault.name,
        resource_id: id,
        resource_name: r.name ?? r.volume.display_name ?? '',
        backup_id: null,
        backup_name: null,
        target_resource_id: null,
        job_id: null,
        incremental: null,
        started_at: now,
        ...(mine.length ? {} : { ended_at: now }),
        extra: JSON.stringify({
          request_id: ctx.requestId,
          remove_resources: { total_count: mine.length, fail_count: 0, resources: [{ id, type: VOLUME_TYPE }] },
        }),
      });
    }
    return [...ids];
  });
}
