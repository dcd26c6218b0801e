/**
 * The engine's progress and cancel hooks for a backup job, persisted to the row.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { saveProgress } from '../../../db/backups-repository.js';
import type { Database } from '../../../db/schema.js';
import type { ProgressHooks } from '../../../engine/engine-api.js';

/**
 * Progress hooks persisting the counters at most once per `intervalMs` (writes are chained,
 * never overlapping) and asking `stillWanted()` between chunks.
 */
export function progressHooks(
  db: Kysely<Database>,
  backupId: string,
  log: Logger,
  stillWanted: () => Promise<boolean>,
  intervalMs = 1000,
): ProgressHooks & { flush(): Promise<void> } {
  let last = 0;
  let pending: Promise<void> = Promise.resolve();
  return {
    onProgress(done, total) {
      const now = Date.now();
      if (now - last < intervalMs) return;
      last = now;
      pending = pending.then(() => saveProgress(db, backupId, done, total)).catch((err) => log.warn({ err }, 'progress not saved'));
    },
    async shouldCancel() {
      return !(await stillWanted());
    },
    flush: () => pending,
  };
}
