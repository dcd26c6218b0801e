import { sql } from 'kysely';
import type { BackupRow, Db } from './schema.js';

/** What a vault holds, per bound volume and in total: the queries behind the vault views and deletes. */

export interface VaultVolumeStats {
  vaultId: string;
  volumeId: string;
  /** Backups CBR shows (not deleted through CBR). */
  count: number;
  storedBytes: number;
  /** Status of the newest such backup. */
  newestStatus: string | null;
}

/** Per vault and volume: the live backups CBR shows, their stored bytes and the newest one's status. */
export async function vaultVolumeStats(db: Db, vaultIds: readonly string[]): Promise<VaultVolumeStats[]> {
  if (vaultIds.length === 0) return [];
  const rows = await db
    .selectFrom('backups as b')
    .select([
      'b.vault_id',
      'b.volume_id',
      (eb) => eb.fn.countAll<number>().as('n'),
      (eb) => eb.fn.coalesce(eb.fn.sum<number>('b.stored_bytes'), sql<number>`0`).as('bytes'),
      sql<string>`(array_agg(b.status order by b.created_at desc, b.id desc))[1]`.as('newest'),
    ])
    .where('b.vault_id', 'in', vaultIds)
    .where('b.deleted', '=', false)
    .where('b.cbr_deleted', '=', false)
    .groupBy(['b.vault_id', 'b.volume_id'])
    .execute();
  return rows.map((r) => ({
    vaultId: r.vault_id!,
    volumeId: r.volume_id,
    count: Number(r.n),
    storedBytes: Number(r.bytes),
    newestStatus: r.newest,
  }));
}

/** Stored bytes of every live backup per vault (held ones included: they still occupy the store). */
export async function vaultsStoredBytes(db: Db, vaultIds: readonly string[]): Promise<Map<string, number>> {
  if (vaultIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('backups')
    .select(['vault_id', (eb) => eb.fn.coalesce(eb.fn.sum<number>('stored_bytes'), sql<number>`0`).as('n')])
    .where('vault_id', 'in', vaultIds)
    .where('deleted', '=', false)
    .groupBy('vault_id')
    .execute();
  return new Map(rows.map((r) => [r.vault_id!, Number(r.n)]));
}

/** The vault's live backup rows (held ones included), of the given volumes only when given. */
export async function liveBackupsOfVault(db: Db, vaultId: string, volumeIds?: readonly string[]): Promise<BackupRow[]> {
  let q = db.selectFrom('backups').selectAll().where('vault_id', '=', vaultId).where('deleted', '=', false);
  if (volumeIds) {
    if (volumeIds.length === 0) return [];
    q = q.where('volume_id', 'in', volumeIds);
  }
  return q.orderBy('created_at', 'desc').execute();
}

/** Number of bound (live) volumes of a vault. */
export async function countVaultResources(db: Db, vaultId: string): Promise<number> {
  const r = await db
    .selectFrom('cbr_vault_resources as r')
    .innerJoin('volumes as v', 'v.id', 'r.volume_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('r.vault_id', '=', vaultId)
    .where('v.deleted', '=', false)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Live vaults of a project in status `deleting` (settled on read). */
export async function deletingVaultIds(db: Db, projectId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('cbr_vaults')
    .select('id')
    .where('project_id', '=', projectId)
    .where('deleted', '=', false)
    .where('status', '=', 'deleting')
    .execute();
  return rows.map((r) => r.id);
}

/** Ends the vault's running logs of the given type (and resources): success, now. */
export async function succeedVaultLogs(db: Db, vaultId: string, operationType: string, resourceIds?: readonly string[]): Promise<void> {
  let q = db
    .updateTable('cbr_operation_logs')
    .set({ status: 'success', ended_at: sql<Date>`now()` as unknown as Date, updated_at: sql<Date>`now()` as unknown as Date })
    .where('vault_id', '=', vaultId)
    .where('operation_type', '=', operationType)
    .where('status', 'in', ['waiting', 'running']);
  if (resourceIds) {
    if (resourceIds.length === 0) return;
    q = q.where('resource_id', 'in', resourceIds);
  }
  await q.execute();
}

/** Resources whose removal from the vault is still running (their backups are being deleted). */
export async function removingResources(db: Db, vaultId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('cbr_operation_logs')
    .select('resource_id')
    .where('vault_id', '=', vaultId)
    .where('operation_type', '=', 'remove_resource')
    .where('status', 'in', ['waiting', 'running'])
    .execute();
  return rows.map((r) => r.resource_id).filter((id): id is string => id !== null);
}
