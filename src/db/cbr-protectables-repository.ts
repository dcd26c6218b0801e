import type { Db, VolumeRow } from './schema.js';
import { isUuid } from './scope.js';

export interface ProtectableFilter {
  projectId: string;
  name?: string;
  status?: string;
  id?: string;
}

export interface ProtectableRow {
  volume: VolumeRow;
  /** The vault the volume is bound to, if any. */
  vault: { id: string; name: string } | null;
}

/** The project's live volumes (oldest first, stable paging) and the vault each is bound to. */
export async function listProtectableVolumes(db: Db, f: ProtectableFilter, offset: number, limit: number): Promise<ProtectableRow[]> {
  let q = db
    .selectFrom('volumes as v')
    .leftJoin('cbr_vault_resources as r', 'r.volume_id', 'v.id')
    .leftJoin('cbr_vaults as cv', 'cv.id', 'r.vault_id')
    .selectAll('v')
    .select(['r.vault_id as r_vault_id', 'cv.name as r_vault_name'])
    .where('v.project_id', '=', f.projectId)
    .where('v.deleted', '=', false);
  if (f.name !== undefined) q = q.where('v.display_name', '=', f.name);
  if (f.status !== undefined) q = q.where('v.status', '=', f.status);
  if (f.id !== undefined) q = q.where('v.id', '=', isUuid(f.id) ? f.id : '00000000-0000-0000-0000-000000000000');
  const rows = await q.orderBy('v.created_at').orderBy('v.id').offset(offset).limit(limit).execute();
  return rows.map(({ r_vault_id, r_vault_name, ...volume }) => ({
    volume: volume as VolumeRow,
    vault: r_vault_id ? { id: r_vault_id, name: r_vault_name ?? '' } : null,
  }));
}
