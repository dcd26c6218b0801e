import { deletingVaultIds } from '../../../db/cbr-vault-contents-repository.js';
import { type VaultFilter, findVault, listVaults as listVaultRows } from '../../../db/cbr-vaults-repository.js';
import type { Db } from '../../../db/schema.js';
import type { RequestContext } from '../../common/context.js';
import { vaultNotFound } from '../errors.js';
import { settleVault } from './delete-vault.js';
import { type VaultView, buildVaultViews } from './vault-view.js';

/** V3: 404 (6105) for an unknown vault and for one whose deletion has finished. */
export async function showVault(db: Db, ctx: RequestContext, id: string): Promise<VaultView> {
  const vault = await findVault(db, id, ctx.projectId);
  if (!vault || !(await settleVault(db, vault))) throw vaultNotFound(id);
  return (await buildVaultViews(db, [(await findVault(db, id, ctx.projectId)) ?? vault]))[0]!;
}

export type VaultListFilter = Omit<VaultFilter, 'projectId'> & { protectType?: string; objectType?: string };

/** V2: the project's vaults (newest first) matching every filter; count is the total. Past the end: []. */
export async function listVaults(
  db: Db,
  ctx: RequestContext,
  filter: VaultListFilter,
  offset: number,
  limit: number,
): Promise<{ vaults: VaultView[]; count: number }> {
  for (const id of await deletingVaultIds(db, ctx.projectId)) {
    const v = await findVault(db, id, ctx.projectId);
    if (v) await settleVault(db, v);
  }
  const { protectType, objectType, ...rest } = filter;
  // Every vault here is a disk backup vault: another type matches nothing.
  if ((protectType !== undefined && protectType !== 'backup') || (objectType !== undefined && objectType !== 'disk'))
    return { vaults: [], count: 0 };
  const { rows, count } = await listVaultRows(db, { ...rest, projectId: ctx.projectId }, offset, limit);
  return { vaults: await buildVaultViews(db, rows), count };
}
