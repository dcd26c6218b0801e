import { type ChainMemberRow, listVolumeBackupFamily } from '../../db/backup-chain-repository.js';
import type { RequestContext } from '../common/context.js';
import type { BackupApiDeps } from './deps.js';
import { getBackupFor } from './reads.js';

/** A backup's incremental chain: its volume's backups, and which of them a restore reads. */
export interface BackupChain {
  backupId: string;
  volumeId: string;
  /** From the full backup to this one: every backup a restore of this one needs. */
  neededToRestore: string[];
  /** The backups made on top of this one (its direct children). */
  children: string[];
  /** Every live backup of the volume, oldest first. */
  members: ChainMemberRow[];
}

/**
 * GET /backups/{id}/chain (extension; backup:get policy). Walks parent links within the
 * backup's project. Throws 404 for a backup the caller cannot see, as show does.
 */
export async function backupChain(deps: Pick<BackupApiDeps, 'db'>, ctx: RequestContext, id: string): Promise<BackupChain> {
  const backup = await getBackupFor(deps, ctx, id, 'backup:get');
  const members = await listVolumeBackupFamily(deps.db, backup.project_id, backup.volume_id);
  const byId = new Map(members.map((m) => [m.id, m]));
  const needed: string[] = [];
  // NOTE: the seen-set guards against a corrupted parent loop; a real chain never revisits.
  const seen = new Set<string>();
  for (let cur: ChainMemberRow | undefined = byId.get(backup.id); cur && !seen.has(cur.id); cur = byId.get(cur.parent_id ?? '')) {
    seen.add(cur.id);
    needed.unshift(cur.id);
  }
  return {
    backupId: backup.id,
    volumeId: backup.volume_id,
    neededToRestore: needed,
    children: members.filter((m) => m.parent_id === backup.id).map((m) => m.id),
    members,
  };
}
