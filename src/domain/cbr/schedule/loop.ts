import type { Logger } from 'pino';
import { schedulerTick, type SchedulerDeps } from './scheduler.js';

export interface CbrScheduler {
  stop(): Promise<void>;
}

/**
 * Runs `schedulerTick` every `tickMs` in a worker process (never two passes at once in one process;
 * other processes run theirs, the database decides which fires). A failed pass is logged and retried.
 */
export function startCbrScheduler(deps: SchedulerDeps & { tickMs: number }, log: Logger = deps.log): CbrScheduler {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const pass = async () => {
    try {
      await schedulerTick(deps);
    } catch (err) {
      log.error({ err }, 'cbr scheduler pass failed');
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass().finally(schedule);
    }, deps.tickMs);
  };
  running = pass().finally(schedule);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
