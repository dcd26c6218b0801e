import { bindPolicy, policyOfVault, unbindPolicy } from '../../../db/cbr-policies-repository.js';
import type { Db } from '../../../db/schema.js';
import type { RequestContext } from '../../common/context.js';
import { paramInvalid } from '../errors.js';
import { backupPolicyOf } from './create-vault.js';
import { vaultForChange } from './vault-resources.js';

/** V8: binds a backup policy; a vault holds one, so a new one replaces the old (as clients rely on). */
export async function associatePolicy(
  db: Db,
  ctx: RequestContext,
  vaultId: string,
  policyId: string,
): Promise<{ vault_id: string; policy_id: string }> {
  return db.transaction().execute(async (trx) => {
    const vault = await vaultForChange(trx, ctx, vaultId);
    const id = await backupPolicyOf(trx, ctx, policyId, 'policy_id');
    await bindPolicy(trx, vault.id, id);
    return { vault_id: vault.id, policy_id: id };
  });
}

/** V9: unbinds the policy; 400 when it is not the vault's. */
export async function dissociatePolicy(
  db: Db,
  ctx: RequestContext,
  vaultId: string,
  policyId: string,
): Promise<{ vault_id: string; policy_id: string }> {
  return db.transaction().execute(async (trx) => {
    const vault = await vaultForChange(trx, ctx, vaultId);
    if ((await policyOfVault(trx, vault.id)) !== policyId || !(await unbindPolicy(trx, vault.id, policyId))) {
      throw paramInvalid('policy_id', `policy ${policyId} is not associated with vault ${vault.id}`);
    }
    return { vault_id: vault.id, policy_id: policyId };
  });
}
