import { sql, type Insertable, type Updateable } from 'kysely';
import type { Db } from './schema.js';
import { isUuid } from './scope.js';
import type { CbrPoliciesTable, CbrPolicyRow } from './schema.js';

/** Every query on cbr_policies and cbr_policy_vaults. */

export async function insertPolicy(db: Db, row: Insertable<CbrPoliciesTable>): Promise<CbrPolicyRow> {
  return db.insertInto('cbr_policies').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findPolicy(db: Db, id: string, projectId: string): Promise<CbrPolicyRow | undefined> {
  if (!isUuid(id)) return undefined;
  return db.selectFrom('cbr_policies').selectAll().where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
}

export async function listPolicies(db: Db, projectId: string, f: { operationType?: string; vaultId?: string }): Promise<CbrPolicyRow[]> {
  let q = db.selectFrom('cbr_policies as p').selectAll('p').where('p.project_id', '=', projectId);
  if (f.operationType !== undefined) q = q.where('p.operation_type', '=', f.operationType);
  if (f.vaultId !== undefined) {
    const vid = isUuid(f.vaultId) ? f.vaultId : '00000000-0000-0000-0000-000000000000';
    q = q.where('p.id', 'in', (eb) => eb.selectFrom('cbr_policy_vaults').select('policy_id').where('vault_id', '=', vid));
  }
  return q.orderBy('p.created_at', 'desc').orderBy('p.id').execute();
}

export async function updatePolicy(db: Db, id: string, set: Updateable<CbrPoliciesTable>): Promise<CbrPolicyRow | undefined> {
  return db
    .updateTable('cbr_policies')
    .set({ ...set, updated_at: sql<Date>`now()` as unknown as Date })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes a policy; its vault bindings go with it (ON DELETE CASCADE). */
export async function deletePolicy(db: Db, id: string): Promise<boolean> {
  const r = await db.deleteFrom('cbr_policies').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Vault ids bound to each policy. */
export async function policyVaults(db: Db, policyIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(policyIds.map((id) => [id, []]));
  if (policyIds.length === 0) return out;
  const rows = await db
    .selectFrom('cbr_policy_vaults')
    .select(['policy_id', 'vault_id'])
    .where('policy_id', 'in', policyIds)
    .orderBy('created_at')
    .execute();
  for (const r of rows) out.get(r.policy_id)?.push(r.vault_id);
  return out;
}

/** The policy bound to a vault, if any. */
export async function policyOfVault(db: Db, vaultId: string): Promise<string | undefined> {
  const r = await db.selectFrom('cbr_policy_vaults').select('policy_id').where('vault_id', '=', vaultId).executeTakeFirst();
  return r?.policy_id;
}

/** Binds a policy to a vault, replacing the vault's previous backup policy. */
export async function bindPolicy(db: Db, vaultId: string, policyId: string): Promise<void> {
  await db
    .insertInto('cbr_policy_vaults')
    .values({ vault_id: vaultId, policy_id: policyId })
    .onConflict((oc) => oc.column('vault_id').doUpdateSet({ policy_id: policyId, created_at: sql<Date>`now()` as unknown as Date }))
    .execute();
}

export async function unbindPolicy(db: Db, vaultId: string, policyId: string): Promise<boolean> {
  const r = await db.deleteFrom('cbr_policy_vaults').where('vault_id', '=', vaultId).where('policy_id', '=', policyId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** An enabled policy with the live vaults bound to it (what the scheduler fires). */
export interface EnabledPolicyBinding {
  policy: CbrPolicyRow;
  vaults: Array<{ vaultId: string; projectId: string; userId: string }>;
}

/**
 * Every enabled backup policy bound to at least one live vault, with those vaults
 * (for the cbr-sched scheduler; all projects).
 */
export async function listEnabledPoliciesWithVaults(db: Db): Promise<EnabledPolicyBinding[]> {
  const rows = await db
    .selectFrom('cbr_policies as p')
    .innerJoin('cbr_policy_vaults as pv', 'pv.policy_id', 'p.id')
    .innerJoin('cbr_vaults as v', 'v.id', 'pv.vault_id')
    .selectAll('p')
    .select(['v.id as v_id', 'v.project_id as v_project_id', 'v.user_id as v_user_id'])
    .where('p.enabled', '=', true)
    .where('p.operation_type', '=', 'backup')
    .where('v.deleted', '=', false)
    .orderBy('p.id')
    .orderBy('v.id')
    .execute();
  const out = new Map<string, EnabledPolicyBinding>();
  for (const { v_id, v_project_id, v_user_id, ...policy } of rows) {
    let b = out.get(policy.id);
    if (!b) out.set(policy.id, (b = { policy: policy as CbrPolicyRow, vaults: [] }));
    b.vaults.push({ vaultId: v_id, projectId: v_project_id, userId: v_user_id });
  }
  return [...out.values()];
}
