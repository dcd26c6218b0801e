import { type ProtectableFilter, type ProtectableRow, listProtectableVolumes } from '../../db/cbr-protectables-repository.js';
import type { Db } from '../../db/schema.js';
import { VOLUME_BACKUP_SOURCES } from '../backups/status.js';
import type { RequestContext } from '../common/context.js';

export interface Protectable extends ProtectableRow {
  /** The volume's status allows a backup now. */
  backupable: boolean;
}

/**
 * R1: the caller's live volumes, each with the vault it is bound to (a volume is in at most
 * one vault) and whether its status allows a backup. Paging past the end gives [].
 */
export async function listProtectables(
  db: Db,
  ctx: RequestContext,
  filter: Omit<ProtectableFilter, 'projectId'>,
  offset: number,
  limit: number,
): Promise<Protectable[]> {
  const rows = await listProtectableVolumes(db, { ...filter, projectId: ctx.projectId }, offset, limit);
  return rows.map((r) => ({ ...r, backupable: (VOLUME_BACKUP_SOURCES as readonly string[]).includes(r.volume.status) }));
}
