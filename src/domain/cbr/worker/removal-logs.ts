import { transitionOperationLog } from '../../../db/cbr-operation-logs-repository.js';
import { liveBackupsOfVault } from '../../../db/cbr-vault-contents-repository.js';
import { removeVault } from '../../../db/cbr-vaults-repository.js';
import type { CbrOperationLogRow, Db } from '../../../db/schema.js';

/** Backup statuses a delete job that failed leaves behind. */
const DELETE_FAILED = ['error', 'error_deleting'];

/** CBR's code for a backup that could not be deleted. */
export const DELETE_FAILED_CODE = 'BackupService.6201';

/**
 * Settles `remove_resource` and `vault_delete` logs after one of the backup deletes they queued
 * finished (run by the job hooks, so no read of the vault is needed): success once none of their
 * backups is left, and a `vault_delete`'s vault is then removed (GET answers 404); failed, with
 * error_info and fail_count, once every backup left failed to delete; otherwise they stay running.
 * NOTE: the last delete job to finish settles them; its own row is committed before this runs, so
 * two jobs finishing together cannot both see the other still `deleting`.
 */
export async function settleRemovalLogs(db: Db, logs: readonly CbrOperationLogRow[]): Promise<void> {
  for (const log of logs) {
    const vaultId = log.vault_id;
    if (!vaultId) continue;
    const scope = log.operation_type === 'remove_resource' ? [log.resource_id ?? ''] : undefined;
    const left = await liveBackupsOfVault(db, vaultId, scope);
    if (left.length === 0) {
      await db.transaction().execute(async (trx) => {
        const done = await transitionOperationLog(trx, log.id, ['waiting', 'running'], { status: 'success', ended_at: new Date() });
        if (done && log.operation_type === 'vault_delete') await removeVault(trx, vaultId);
      });
      continue;
    }
    if (!left.every((b) => DELETE_FAILED.includes(b.status))) continue;
    const extra = log.extra as Record<string, unknown>;
    const key = log.operation_type === 'vault_delete' ? 'vault_delete' : 'remove_resources';
    const counts = { ...(extra[key] as object), fail_count: left.length };
    const reason = left[0]!.fail_reason ?? 'unknown error';
    await transitionOperationLog(db, log.id, ['waiting', 'running'], {
      status: 'failed',
      ended_at: new Date(),
      error_code: DELETE_FAILED_CODE,
      error_message: `${left.length} backup(s) could not be deleted: ${reason}`,
      extra: JSON.stringify({ ...extra, [key]: counts }),
    });
  }
}
