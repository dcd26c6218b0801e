import type { TroveBackupRow } from '../../../db/schema.js';
import { markTroveBackupDeleted, troveBackupChildren } from '../../../db/trove-backups-repository.js';
import { enqueueJob } from '../../../jobs/kinds.js';
import type { RequestContext } from '../../common/context.js';
import { unprocessable } from '../errors.js';
import type { TroveDeps } from '../instances/runtime.js';
import { TroveBackupStatus } from './deps.js';
import { getTroveBackup } from './read.js';

/** The backup and every descendant, children before their parent. */
async function withDescendants(deps: TroveDeps, row: TroveBackupRow): Promise<TroveBackupRow[]> {
  const out: TroveBackupRow[] = [];
  for (const child of await troveBackupChildren(deps.db, row.id)) out.push(...(await withDescendants(deps, child)));
  out.push(row);
  return out;
}

/**
 * Trove's Backup.delete (section 1.6): children first (an incremental needs its parent's objects),
 * 422 while any of them runs; rows are marked deleted at once (404 afterwards, the quota freed),
 * objects removed by a job (the orphan GC finds what a failed removal leaves).
 */
export async function deleteTroveBackup(deps: TroveDeps, ctx: RequestContext, id: string): Promise<void> {
  const row = await getTroveBackup(deps, ctx, id);
  const all = await withDescendants(deps, row);
  const running = all.find((b) => b.status === TroveBackupStatus.NEW || b.status === TroveBackupStatus.BUILDING);
  if (running) throw unprocessable(`Backup ${running.id} cannot be deleted because it is running.`);
  await deps.db.transaction().execute(async (trx) => {
    for (const b of all) {
      await markTroveBackupDeleted(trx, b.id);
      await enqueueJob(trx, { kind: 'trove_backup_delete', resourceId: b.id, payload: { container: b.container, prefix: b.prefix } });
    }
  });
  deps.wakeJobs?.();
}
