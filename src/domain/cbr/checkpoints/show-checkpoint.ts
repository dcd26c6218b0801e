import type { Db } from '../../../db/schema.js';
import { checkpointBackups, findCheckpoint } from '../../../db/cbr-checkpoints-repository.js';
import { findVault, vaultResources } from '../../../db/cbr-vaults-repository.js';
import type { BackupRow } from '../../../db/schema.js';
import type { RequestContext } from '../../common/context.js';
import { CbrError } from '../errors.js';
import { DISK_PROVIDER_ID, VOLUME_TYPE, cbrTime } from '../time.js';
import type { CheckpointView, SkippedResource } from './checkpoint-view.js';

/** A vault resource's protect_status, from its newest backup's status. */
export function protectStatus(backupStatus: string | undefined): string {
  switch (backupStatus) {
    case 'creating':
      return 'protecting';
    case 'restoring':
      return 'restoring';
    case 'deleting':
      return 'deleting';
    case 'error':
    case 'error_deleting':
      return 'error';
    default:
      return 'available';
  }
}

/** A checkpoint's status from its backups: protecting while any runs, error when any failed. */
export function checkpointStatus(backups: readonly BackupRow[]): string {
  if (backups.some((b) => b.status === 'creating')) return 'protecting';
  if (backups.length === 0 || backups.some((b) => b.status === 'error')) return 'error';
  return 'available';
}

const GIB = 1024 ** 3;

/** C2: 404 when unknown, and once every backup it made is deleted. */
export async function showCheckpointById(db: Db, ctx: RequestContext, id: string): Promise<CheckpointView> {
  const gone = () => new CbrError('BackupService.6213', `Checkpoint ${id} could not be found.`, true);
  const cp = await findCheckpoint(db, id, ctx.projectId);
  if (!cp) throw gone();
  const backups = await checkpointBackups(db, cp.id);
  const skipped = (typeof cp.skipped === 'string' ? JSON.parse(cp.skipped) : cp.skipped) as SkippedResource[];
  if (backups.length === 0 && skipped.length === 0) throw gone();
  const vault = await findVault(db, cp.vault_id, ctx.projectId);
  const names = new Map(
    (vault ? await vaultResources(db, [vault.id]) : []).map((r) => [r.volume.id, r.name ?? r.volume.display_name ?? '']),
  );
  return {
    id: cp.id,
    project_id: cp.project_id,
    status: backups.length === 0 ? 'error' : checkpointStatus(backups),
    created_at: cbrTime(cp.created_at)!,
    extra_info: { name: cp.name, description: cp.description ?? '', retention_duration: -1 },
    vault: {
      id: cp.vault_id,
      name: vault?.name ?? '',
      provider_id: DISK_PROVIDER_ID,
      resources: backups.map((b) => ({
        id: b.volume_id,
        name: names.get(b.volume_id) ?? '',
        type: VOLUME_TYPE,
        protect_status: protectStatus(b.status),
        resource_size: String(b.size),
        backup_size: String(Math.ceil(b.stored_bytes / GIB)),
        backup_count: '1',
        extra_info: null,
      })),
      skipped_resources: skipped,
    },
  };
}
