/**
 * The `verify` job (os-verify extension).
 */
import { dbNow, progressBytesTotal } from '../../../db/sql-values.js';
import { backupChain, findBackupAnyState, startProgress, updateBackupFields } from '../../../db/backups-repository.js';
import type { JobRow } from '../../../db/schema.js';
import { BackupIntegrityError } from '../../../engine/engine-api.js';
import type { JobContext, JobFailure } from '../../../jobs/worker.js';
import { type BackupManagerDeps, locationOf } from './deps.js';
import { reasonOf } from './failure.js';
import { progressHooks } from './progress-hooks.js';

/**
 * The `verify` job (extension): engine.verify over the chain's last backup. Success records
 * verified_at and "ok"; a mismatch records "mismatch" and the reason in fail_reason. The
 * backup stays available either way (restores refuse bad data on their own). Interrupted (a
 * stop, a lost lease), it records nothing and throws: its next run verifies from the start.
 */
export async function runVerifyJob(deps: BackupManagerDeps, job: JobRow, ctx: JobContext): Promise<JobFailure | void> {
  const row = await findBackupAnyState(deps.db, job.resource_id);
  if (!row || row.deleted || row.status !== 'available') return;
  // Stopped or lease lost: end now, the job is run again from the start by its next owner.
  const stillWanted = async () => {
    if (ctx.signal.aborted) throw new Error('verify interrupted');
    return (await findBackupAnyState(deps.db, row.id))?.status === 'available';
  };
  const hooks = progressHooks(deps.db, row.id, ctx.log, stillWanted);
  try {
    const chain = (await backupChain(deps.db, row.id)).map((r) => {
      const loc = locationOf(r);
      if (!loc) throw new BackupIntegrityError(`Backup ${r.id} has no stored data.`);
      return loc;
    });
    await startProgress(deps.db, row.id, 'verify', row.size * 1024 ** 3, { jobId: job.id, attempt: job.attempts });
    const result = await deps.engine.verify(deps.store, chain, hooks);
    await hooks.flush();
    await updateBackupFields(deps.db, row.id, {
      verified_at: dbNow(),
      verify_result: 'ok',
      progress_bytes_done: progressBytesTotal(),
      progress_updated_at: dbNow(),
    });
    ctx.log.info({ objects: result.objectsChecked, bytes: result.bytesChecked }, 'backup verified');
  } catch (err) {
    await hooks.flush();
    if (ctx.signal.aborted) throw err;
    const mismatch = err instanceof BackupIntegrityError;
    await updateBackupFields(deps.db, row.id, {
      verified_at: dbNow(),
      verify_result: mismatch ? 'mismatch' : 'error',
      fail_reason: reasonOf(err),
    });
    return { outcome: 'failed', reason: `verify ${mismatch ? 'mismatch' : 'error'}: ${reasonOf(err)}` };
  }
}
