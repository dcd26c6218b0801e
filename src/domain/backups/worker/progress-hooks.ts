/**
 * The engine's progress and cancel hooks for a backup job, persisted to the row.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { saveProgress } from '../../../db/backups-repository.js';
import type { Database } from '../../../db/schema.js';
import type { ProgressDetail, ProgressHooks } from '../../../engine/engine-api.js';

/** The current rate is measured over this much of the recent past (the average is the whole run's). */
const RATE_WINDOW_MS = 10_000;

/**
 * The current rate of `done` over the last RATE_WINDOW_MS, from samples [ms, done] (oldest
 * first; samples older than the window are dropped from `samples`). 0 until a second has passed.
 */
export function currentRate(samples: Array<[number, number]>, now: number, done: number): number {
  samples.push([now, done]);
  while (samples.length > 2 && now - samples[1]![0] >= RATE_WINDOW_MS) samples.shift();
  const [t0, d0] = samples[0]!;
  return now - t0 >= 1000 ? ((done - d0) * 1000) / (now - t0) : 0;
}

/**
 * Progress hooks persisting the counters at most once per `intervalMs` (at once when the phase
 * changes; writes are chained, never overlapping) and asking `stillWanted()` between chunks.
 * `flush()` writes the last report and waits for every write.
 */
export function progressHooks(
  db: Kysely<Database>,
  backupId: string,
  log: Logger,
  stillWanted: () => Promise<boolean>,
  intervalMs = 1000,
): ProgressHooks & { flush(): Promise<void> } {
  let last = 0;
  let lastPhase: string | undefined;
  let unsaved: (() => Promise<void>) | undefined;
  let pending: Promise<void> = Promise.resolve();
  const samples: Array<[number, number]> = [];
  const write = (save: () => Promise<void>) => {
    unsaved = undefined;
    pending = pending.then(save).catch((err) => log.warn({ err }, 'progress not saved'));
  };
  return {
    onProgress(done, total, detail?: ProgressDetail) {
      const now = Date.now();
      const rate = currentRate(samples, now, done);
      const save = () => saveProgress(db, backupId, done, total, detail && { ...detail, rateBytesPerSec: rate });
      if (now - last < intervalMs && detail?.phase === lastPhase) {
        unsaved = save;
        return;
      }
      last = now;
      lastPhase = detail?.phase;
      write(save);
    },
    async shouldCancel() {
      return !(await stillWanted());
    },
    flush() {
      if (unsaved) write(unsaved);
      return pending;
    },
  };
}
