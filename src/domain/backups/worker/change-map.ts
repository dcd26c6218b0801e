import type { Logger } from 'pino';
import type { BackupRequest, BackupResult } from '../../../engine/engine-api.js';
import type { BackupManagerDeps } from './deps.js';

/**
 * Changed-block tracking around a backup of the volume file itself (read under the volume's fence,
 * so no service write lands during it): the incremental gets the blocks written since its parent
 * when the volume's change map vouches for them (else null: a full read and hash, and the reason is
 * logged), and once the copy succeeded the map restarts from this backup, still under the fence.
 * NOTE: only this path resets the map. A backup of a snapshot or of a temporary snapshot (in-use
 * volume) read another file, so the map keeps counting from its older reset and an incremental on
 * such a backup falls back ('parent is not the reset backup').
 */
export async function backupWithChangeMap(
  deps: BackupManagerDeps,
  log: Logger,
  req: BackupRequest,
  run: (req: BackupRequest) => Promise<BackupResult>,
): Promise<BackupResult> {
  const before = await deps.volumes.volumeStamp(req.volumeId);
  let changedBlocks: Uint8Array | null = null;
  if (req.parent) {
    const cbt = await deps.volumes.changedBlocks(req.volumeId, req.parent.backupId, req.source.sizeBytes, deps.config.BACKUP_BLOCK_SIZE);
    changedBlocks = cbt.changed;
    if (cbt.changed) log.info({ cbt: 'used', changed_blocks: count(cbt.changed), blocks: cbt.changed.length }, 'changed-block tracking');
    else log.info({ cbt: 'fallback', reason: cbt.fallback }, 'changed-block tracking not usable: full read and hash');
  }
  const result = await run({ ...req, changedBlocks });
  try {
    await deps.volumes.resetChangedBlocks(req.volumeId, req.backupId, before);
  } catch (err) {
    // The map is then either untouched (still counting from an older backup: a superset) or marked
    // not trustworthy; both are safe, and the backup itself is good.
    log.warn({ err }, 'change map not reset after the backup');
  }
  return result;
}

function count(flags: Uint8Array): number {
  let n = 0;
  for (const f of flags) n += f;
  return n;
}
