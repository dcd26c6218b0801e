import { randomUUID } from 'node:crypto';
import { bindPolicy, findPolicy } from '../../../db/cbr-policies-repository.js';
import { vaultStoredBytes } from '../../../db/cbr-vaults-repository.js';
import { insertVault, updateVault as updateVaultRow } from '../../../db/cbr-vaults-repository.js';
import type { CbrVaultRow, Db } from '../../../db/schema.js';
import type { RequestContext } from '../../common/context.js';
import { cbrInvalid, paramInvalid } from '../errors.js';
import { type ResourceInput, bindResources, vaultForChange } from './vault-resources.js';
import { type VaultExtra, type VaultView, buildVaultViews, vaultExtra } from './vault-view.js';

type Tag = { key: string; value: string };

export interface CreateVaultInput {
  name: string;
  description?: string;
  billing: {
    object_type: string;
    protect_type: string;
    consistent_level: string;
    size: number;
    charging_mode?: string;
    cloud_type?: string;
  };
  resources: ResourceInput[];
  backup_policy_id?: string;
  auto_bind?: boolean;
  bind_rules?: { tags?: Tag[] };
  auto_expand?: boolean;
  enterprise_project_id?: string;
  tags?: Tag[];
  threshold?: number;
  smn_notify?: boolean;
  locked?: boolean;
  backup_name_prefix?: string;
  availability_zone?: string;
}

export interface UpdateVaultInput {
  name?: string;
  billing?: { size?: number; consistent_level?: string };
  auto_bind?: boolean;
  auto_expand?: boolean;
  bind_rules?: { tags?: Tag[] };
  locked?: boolean;
  smn_notify?: boolean;
  threshold?: number;
}

const MAX_SIZE_GB = 10_485_760;
const GIB = 1024 ** 3;

function checkBilling(b: CreateVaultInput['billing']): void {
  if (b.object_type !== 'disk') throw paramInvalid('vault.billing.object_type', `${b.object_type} is not supported, only disk`);
  if (b.protect_type !== 'backup') throw paramInvalid('vault.billing.protect_type', `${b.protect_type} is not supported, only backup`);
  if (b.consistent_level !== 'crash_consistent') throw paramInvalid('vault.billing.consistent_level', 'disk vaults are crash_consistent');
  if (b.charging_mode !== undefined && b.charging_mode !== 'post_paid')
    throw paramInvalid('vault.billing.charging_mode', 'only post_paid is supported');
  if (b.cloud_type !== undefined && b.cloud_type !== 'public' && b.cloud_type !== 'hybrid')
    throw paramInvalid('vault.billing.cloud_type', 'public or hybrid');
  if (b.size < 10 || b.size > MAX_SIZE_GB) throw cbrInvalid('6101', `Size of vault invalid: ${b.size} GB (10-${MAX_SIZE_GB}).`);
}

/** A policy of the project that a vault may carry (operation_type backup). */
export async function backupPolicyOf(db: Db, ctx: RequestContext, id: string, field: string): Promise<string> {
  const policy = await findPolicy(db, id, ctx.projectId);
  if (!policy) throw paramInvalid(field, `policy ${id} could not be found`);
  if (policy.operation_type !== 'backup') throw paramInvalid(field, `policy ${id} is not a backup policy`);
  return policy.id;
}

/** V1: a disk vault (post_paid, 10-10485760 GB) with its volumes and optional backup policy. */
export async function createVault(db: Db, ctx: RequestContext, input: CreateVaultInput): Promise<VaultView> {
  checkBilling(input.billing);
  const policyId = input.backup_policy_id ? await backupPolicyOf(db, ctx, input.backup_policy_id, 'vault.backup_policy_id') : undefined;
  const extra: VaultExtra = {
    ...(input.tags ? { tags: input.tags } : {}),
    ...(input.bind_rules ? { bind_rules: input.bind_rules } : {}),
    ...(input.availability_zone ? { availability_zone: input.availability_zone } : {}),
  };
  const row = await db.transaction().execute(async (trx) => {
    const vault = await insertVault(trx, {
      id: randomUUID(),
      project_id: ctx.projectId,
      user_id: ctx.userId,
      name: input.name,
      description: input.description ?? null,
      size_gb: input.billing.size,
      consistent_level: input.billing.consistent_level,
      charging_mode: input.billing.charging_mode ?? 'post_paid',
      cloud_type: input.billing.cloud_type ?? 'public',
      threshold: input.threshold ?? 80,
      auto_bind: input.auto_bind ?? false,
      auto_expand: input.auto_expand ?? false,
      smn_notify: input.smn_notify ?? true,
      locked: input.locked ?? false,
      enterprise_project_id: input.enterprise_project_id ?? '0',
      backup_name_prefix: input.backup_name_prefix ?? null,
      extra: JSON.stringify(extra),
    });
    await bindResources(trx, ctx, vault, input.resources, 'vault.resources');
    if (policyId) await bindPolicy(trx, vault.id, policyId);
    return vault;
  });
  return (await buildVaultViews(db, [row]))[0]!;
}

/**
 * V4: changes what is given; the same values again change nothing. 6101 size out of range,
 * 6107 a size below what the vault's backups already store; a locked vault stays locked.
 */
export async function updateVault(db: Db, ctx: RequestContext, id: string, input: UpdateVaultInput): Promise<VaultView> {
  const row = await db.transaction().execute(async (trx): Promise<CbrVaultRow> => {
    const vault = await vaultForChange(trx, ctx, id);
    const size = input.billing?.size;
    if (size !== undefined) {
      if (size < 1 || size > MAX_SIZE_GB) throw cbrInvalid('6101', `Size of vault invalid: ${size} GB (1-${MAX_SIZE_GB}).`);
      if (size * GIB < (await vaultStoredBytes(trx, vault.id)))
        throw cbrInvalid('6107', `Vault resource size illegal: its backups use more than ${size} GB.`);
    }
    if (input.billing?.consistent_level !== undefined && input.billing.consistent_level !== 'crash_consistent') {
      throw paramInvalid('vault.billing.consistent_level', 'disk vaults are crash_consistent');
    }
    if (vault.locked && input.locked === false) throw paramInvalid('vault.locked', 'a locked vault cannot be unlocked');
    const extra = vaultExtra(vault);
    const updated = await updateVaultRow(trx, vault.id, {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(size !== undefined ? { size_gb: size } : {}),
      ...(input.auto_bind !== undefined ? { auto_bind: input.auto_bind } : {}),
      ...(input.auto_expand !== undefined ? { auto_expand: input.auto_expand } : {}),
      ...(input.locked !== undefined ? { locked: input.locked } : {}),
      ...(input.smn_notify !== undefined ? { smn_notify: input.smn_notify } : {}),
      ...(input.threshold !== undefined ? { threshold: input.threshold } : {}),
      ...(input.bind_rules !== undefined ? { extra: JSON.stringify({ ...extra, bind_rules: input.bind_rules }) } : {}),
    });
    return updated ?? vault;
  });
  return (await buildVaultViews(db, [row]))[0]!;
}
