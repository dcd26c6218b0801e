import { randomUUID } from 'node:crypto';
import { deleteCheckpoint, insertCheckpoint, insertOperationLog, updateCheckpoint } from '../../../db/cbr-checkpoints-repository.js';
import { findVault, vaultResources, vaultStoredBytes } from '../../../db/cbr-vaults-repository.js';
import { createBackup } from '../../backups/create.js';
import type { CbrVaultRow, Db } from '../../../db/schema.js';
import type { BackupApiDeps } from '../../backups/deps.js';
import { VOLUME_BACKUP_SOURCES } from '../../backups/status.js';
import type { RequestContext } from '../../common/context.js';
import { DomainError } from '../../common/errors.js';
import { CbrError, cbrInvalid, vaultNotFound } from '../errors.js';
import { VOLUME_TYPE } from '../time.js';
import type { CheckpointView, SkippedResource } from './checkpoint-view.js';
import { showCheckpointById } from './show-checkpoint.js';

export interface CreateCheckpointInput {
  vaultId: string;
  /** Volume ids to back up (each must be in the vault); absent = every resource of the vault. */
  resources?: string[];
  /** true (default): against the newest available backup of each volume, full when there is none. */
  incremental?: boolean;
  /** As the caller sent it; echoed. Only `scheduledBy` makes backups count as automatic. */
  autoTrigger: boolean;
  scheduledBy?: { policyId: string };
  name?: string;
  description?: string;
}

const GIB = 1024 ** 3;

function skipReason(status: string): { code: string; reason: string } {
  if (status === 'backing-up') return { code: 'BackupService.2002', reason: 'The resource is being backed up.' };
  if (status === 'restoring-backup') return { code: 'BackupService.2010', reason: 'The resource is being restored.' };
  return { code: 'BackupService.6113', reason: `The resource status ${status} does not allow backup.` };
}

function autoName(scheduled: boolean): string {
  return `${scheduled ? 'autobk' : 'manualbk'}_${randomUUID().slice(0, 4)}`;
}

/**
 * POST /checkpoints (create a checkpoint), also called by the scheduler: one Cinder-format backup per volume of the
 * vault (or of `resources`), each through the backups module's create (same engine, same
 * jobs), with a `backup` operation log each. A volume that is not available/in-use, or that
 * a concurrent operation took, is listed in skipped_resources instead. Throws 6105 (404), 6113,
 * 6135, 6114, and 0001 when there is nothing to back up (no resource, or every one skipped).
 */
export async function createCheckpoint(deps: BackupApiDeps, ctx: RequestContext, input: CreateCheckpointInput): Promise<CheckpointView> {
  const { db } = deps;
  const vault = await findVault(db, input.vaultId, ctx.projectId);
  if (!vault) throw vaultNotFound(input.vaultId);
  if (vault.status !== 'available') throw cbrInvalid('6113', `Vault status ${vault.status} does not allow backup.`);
  const bound = await vaultResources(db, [vault.id]);
  let targets = bound;
  if (input.resources) {
    const wanted = new Set(input.resources);
    for (const id of wanted) {
      if (!bound.some((r) => r.volume.id === id)) throw cbrInvalid('6135', `Resource ${id} is not in vault ${vault.id}.`);
    }
    targets = bound.filter((r) => wanted.has(r.volume.id));
  }
  if (targets.length === 0) throw cbrInvalid('0001', 'No resource is available for backup.');
  if ((await vaultStoredBytes(db, vault.id)) >= vault.size_gb * GIB) {
    throw cbrInvalid('6114', `Vault used capacity exceeds its size of ${vault.size_gb} GB.`);
  }

  const scheduled = input.scheduledBy !== undefined;
  const incremental = input.incremental ?? true;
  const checkpoint = await insertCheckpoint(db, {
    id: randomUUID(),
    project_id: ctx.projectId,
    vault_id: vault.id,
    name: input.name ?? autoName(scheduled),
    description: input.description ?? null,
    auto_trigger: input.autoTrigger,
    scheduled,
    policy_id: input.scheduledBy?.policyId ?? null,
    incremental,
    skipped: '[]',
  });

  const skipped: SkippedResource[] = [];
  for (const { volume, name } of targets) {
    const resourceName = name ?? volume.display_name ?? '';
    const skip = (s: { code: string; reason: string }) => skipped.push({ id: volume.id, type: VOLUME_TYPE, name: resourceName, ...s });
    if (!(VOLUME_BACKUP_SOURCES as readonly string[]).includes(volume.status)) {
      skip(skipReason(volume.status));
      continue;
    }
    try {
      await createBackup(
        deps,
        ctx,
        {
          volumeId: volume.id,
          name: checkpoint.name,
          description: checkpoint.description,
          container: null,
          incremental,
          force: true,
          snapshotId: null,
          metadata: {},
          availabilityZone: volume.availability_zone,
        },
        {
          skipQuota: true,
          fullWithoutParent: true,
          columns: {
            vault_id: vault.id,
            checkpoint_id: checkpoint.id,
            cbr_policy_id: input.scheduledBy?.policyId ?? null,
            cbr_auto_trigger: scheduled,
          },
          inTransaction: async (trx, row) => {
            await insertOperationLog(trx, {
              id: randomUUID(),
              project_id: ctx.projectId,
              operation_type: 'backup',
              checkpoint_id: checkpoint.id,
              policy_id: input.scheduledBy?.policyId ?? null,
              vault_id: vault.id,
              vault_name: vault.name,
              resource_id: volume.id,
              resource_name: resourceName,
              backup_id: row.id,
              backup_name: row.display_name,
              target_resource_id: null,
              job_id: null,
              incremental: row.parent_id !== null,
              extra: JSON.stringify({ request_id: ctx.requestId }),
            });
          },
        },
      );
    } catch (err) {
      if (!(err instanceof DomainError) || err instanceof CbrError) throw err;
      // The volume changed state between the read and the create's compare-and-set.
      skip({ code: 'BackupService.2002', reason: err.message });
    }
  }
  if (skipped.length === targets.length) {
    // NOTE: every resource was skipped (all busy). CBR answers this with BackupService.0001 "No
    // resource is available for backup", whose documented remedy is to check whether the resources
    // are being backed up: the request fails and no checkpoint is kept, so none claims `available`
    // (or lingers as `error`) with nothing protected. A scheduled run still writes its `skipped`
    // operation logs (with no checkpoint) and its trigger records the failure.
    await deleteCheckpoint(db, checkpoint.id);
    if (scheduled) await logSkipped(db, ctx, vault, input, null, skipped);
    throw cbrInvalid('0001', `No resource is available for backup: ${skipped.map((s) => `${s.id}: ${s.reason}`).join('; ')}`);
  }
  if (skipped.length > 0) await updateCheckpoint(db, checkpoint.id, { skipped: JSON.stringify(skipped) });
  await logSkipped(db, ctx, vault, input, checkpoint.id, skipped);
  return showCheckpointById(db, ctx, checkpoint.id);
}

/** One `skipped` backup operation log per skipped volume. */
async function logSkipped(
  db: Db,
  ctx: RequestContext,
  vault: CbrVaultRow,
  input: CreateCheckpointInput,
  checkpointId: string | null,
  skipped: readonly SkippedResource[],
): Promise<void> {
  for (const s of skipped) {
    await insertOperationLog(db, {
      id: randomUUID(),
      project_id: ctx.projectId,
      operation_type: 'backup',
      status: 'skipped',
      checkpoint_id: checkpointId,
      policy_id: input.scheduledBy?.policyId ?? null,
      vault_id: vault.id,
      vault_name: vault.name,
      resource_id: s.id,
      resource_name: s.name,
      backup_id: null,
      backup_name: null,
      target_resource_id: null,
      job_id: null,
      incremental: null,
      error_code: s.code,
      error_message: s.reason,
      extra: JSON.stringify({ request_id: ctx.requestId }),
      ended_at: new Date(),
    });
  }
}
