import { sql } from 'kysely';
import type { Db } from './schema.js';
import { isUuid } from './scope.js';
import type { CbrVaultRow, CbrVaultsTable, VolumeRow } from './schema.js';
import type { Insertable, Updateable } from 'kysely';

/** Every query on cbr_vaults and cbr_vault_resources. */

export async function insertVault(db: Db, row: Insertable<CbrVaultsTable>): Promise<CbrVaultRow> {
  return db.insertInto('cbr_vaults').values(row).returningAll().executeTakeFirstOrThrow();
}

/** A live vault of the project (deleting ones included), or undefined. */
export async function findVault(db: Db, id: string, projectId: string): Promise<CbrVaultRow | undefined> {
  if (!isUuid(id)) return undefined;
  return db
    .selectFrom('cbr_vaults')
    .selectAll()
    .where('id', '=', id)
    .where('project_id', '=', projectId)
    .where('deleted', '=', false)
    .executeTakeFirst();
}

/** Locks a vault row for the rest of the transaction (capacity and binding checks). */
export async function lockVault(db: Db, id: string): Promise<CbrVaultRow | undefined> {
  return db.selectFrom('cbr_vaults').selectAll().where('id', '=', id).where('deleted', '=', false).forUpdate().executeTakeFirst();
}

export interface VaultFilter {
  projectId: string;
  name?: string;
  status?: string;
  ids?: string[];
  policyId?: string;
  resourceIds?: string[];
  cloudType?: string;
  /** 'all_granted_eps' (or unset) = every enterprise project. */
  enterpriseProjectId?: string;
}

function filtered(db: Db, f: VaultFilter) {
  let q = db.selectFrom('cbr_vaults as v').where('v.project_id', '=', f.projectId).where('v.deleted', '=', false);
  if (f.name !== undefined) q = q.where('v.name', '=', f.name);
  if (f.status !== undefined) q = q.where('v.status', '=', f.status);
  if (f.cloudType !== undefined) q = q.where('v.cloud_type', '=', f.cloudType);
  if (f.enterpriseProjectId !== undefined && f.enterpriseProjectId !== 'all_granted_eps') {
    q = q.where('v.enterprise_project_id', '=', f.enterpriseProjectId);
  }
  if (f.ids) q = q.where('v.id', 'in', f.ids.filter(isUuid).concat(['00000000-0000-0000-0000-000000000000']));
  if (f.policyId !== undefined) {
    const pid = isUuid(f.policyId) ? f.policyId : '00000000-0000-0000-0000-000000000000';
    q = q.where('v.id', 'in', (eb) => eb.selectFrom('cbr_policy_vaults').select('vault_id').where('policy_id', '=', pid));
  }
  if (f.resourceIds) {
    const ids = f.resourceIds.filter(isUuid).concat(['00000000-0000-0000-0000-000000000000']);
    q = q.where('v.id', 'in', (eb) => eb.selectFrom('cbr_vault_resources').select('vault_id').where('volume_id', 'in', ids));
  }
  return q;
}

export async function listVaults(db: Db, f: VaultFilter, offset: number, limit: number): Promise<{ rows: CbrVaultRow[]; count: number }> {
  const rows = await filtered(db, f).selectAll('v').orderBy('v.created_at', 'desc').orderBy('v.id').offset(offset).limit(limit).execute();
  const c = await filtered(db, f)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { rows, count: Number(c.n) };
}

export async function updateVault(db: Db, id: string, set: Updateable<CbrVaultsTable>): Promise<CbrVaultRow | undefined> {
  return db
    .updateTable('cbr_vaults')
    .set({ ...set, updated_at: sql<Date>`now()` as unknown as Date })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .returningAll()
    .executeTakeFirst();
}

/** Compare-and-set of a vault's status. */
export async function transitionVault(db: Db, id: string, from: readonly string[], to: string): Promise<CbrVaultRow | undefined> {
  return db
    .updateTable('cbr_vaults')
    .set({ status: to, updated_at: sql<Date>`now()` as unknown as Date })
    .where('id', '=', id)
    .where('deleted', '=', false)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

/** The vault disappears (GET answers 404); its resources and policy binding go with it. */
export async function removeVault(db: Db, id: string): Promise<void> {
  await db.deleteFrom('cbr_vault_resources').where('vault_id', '=', id).execute();
  await db.deleteFrom('cbr_policy_vaults').where('vault_id', '=', id).execute();
  await db
    .updateTable('cbr_vaults')
    .set({ deleted: true, status: 'deleted', updated_at: sql<Date>`now()` as unknown as Date })
    .where('id', '=', id)
    .execute();
}

export interface VaultResource {
  vaultId: string;
  volume: VolumeRow;
  name: string | null;
}

/** The live volumes bound to the vaults, in binding order. */
export async function vaultResources(db: Db, vaultIds: readonly string[]): Promise<VaultResource[]> {
  if (vaultIds.length === 0) return [];
  const rows = await db
    .selectFrom('cbr_vault_resources as r')
    .innerJoin('volumes as v', 'v.id', 'r.volume_id')
    .selectAll('v')
    .select(['r.vault_id as r_vault_id', 'r.name as r_name'])
    .where('r.vault_id', 'in', vaultIds)
    .where('v.deleted', '=', false)
    .orderBy('r.seq')
    .execute();
  return rows.map(({ r_vault_id, r_name, ...volume }) => ({ vaultId: r_vault_id, name: r_name, volume: volume as VolumeRow }));
}

/** vault id per bound volume id, for the given volumes. */
export async function vaultsOfVolumes(db: Db, volumeIds: readonly string[]): Promise<Map<string, string>> {
  if (volumeIds.length === 0) return new Map();
  const rows = await db.selectFrom('cbr_vault_resources').select(['volume_id', 'vault_id']).where('volume_id', 'in', volumeIds).execute();
  return new Map(rows.map((r) => [r.volume_id, r.vault_id]));
}

export async function addVaultResources(
  db: Db,
  vaultId: string,
  resources: ReadonlyArray<{ volumeId: string; name: string | null }>,
): Promise<void> {
  if (resources.length === 0) return;
  await db
    .insertInto('cbr_vault_resources')
    .values(resources.map((r) => ({ vault_id: vaultId, volume_id: r.volumeId, name: r.name })))
    .execute();
}

export async function removeVaultResources(db: Db, vaultId: string, volumeIds: readonly string[]): Promise<void> {
  if (volumeIds.length === 0) return;
  await db.deleteFrom('cbr_vault_resources').where('vault_id', '=', vaultId).where('volume_id', 'in', volumeIds).execute();
}

/** Bytes stored by the vault's live backups (capacity, BackupService.6114). */
export async function vaultStoredBytes(db: Db, vaultId: string): Promise<number> {
  const r = await db
    .selectFrom('backups')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('stored_bytes'), sql<number>`0`).as('n'))
    .where('vault_id', '=', vaultId)
    .where('deleted', '=', false)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
