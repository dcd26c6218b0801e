import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { isConnectionError } from '../db/connection.js';
import { claimJob, finishJob, pruneFinishedJobs, releaseJob, renewLease, unclaimJob } from '../db/jobs-repository.js';
import type { Database, JobRow } from '../db/schema.js';
import { beatWorker, pruneDeadWorkers, removeWorker } from '../db/worker-heartbeats-repository.js';
import type { JobMetrics } from './job-metrics.js';

export interface JobContext {
  /** Aborted when our lease is lost (another worker took the job) or at shutdown after the grace period. */
  signal: AbortSignal;
  /** Renews the lease now (it is also renewed on a timer). */
  heartbeat(): Promise<void>;
  log: Logger;
}

/** What a handler that settled its resource reports when the operation itself failed. */
export interface JobFailure {
  outcome: 'failed';
  /** Why, in words for the log and jobs.last_error (the resource's fail_reason). */
  reason: string;
}

/**
 * Does one job. It must leave its resource in a final status itself (available /
 * error ...): a throw only marks the job row failed. When it settles its resource as
 * failed (a restore into error, a verify mismatch) it returns a JobFailure, so the job
 * ends failed and is logged as such. It may run again after a crash (the lease expired),
 * so it must be safe to re-run.
 */
export type JobHandler = (job: JobRow, ctx: JobContext) => Promise<JobFailure | void>;

export interface JobWorkerOptions {
  db: Kysely<Database>;
  /** Unique per process: host:pid:random. */
  owner: string;
  /** This process's host (HOST_ID): jobs bound to another host are left to its workers. */
  hostId: string;
  handlers: Record<string, JobHandler>;
  /** Concurrent jobs in this process (BACKUP_MAX_OPERATIONS). */
  maxConcurrent: number;
  leaseSeconds: number;
  pollMs: number;
  logger: Logger;
  /** How long stop() lets running jobs finish before releasing them to other workers (SHUTDOWN_GRACE_SECONDS; default 30 s). */
  shutdownGraceMs?: number;
  metrics?: JobMetrics;
  /** Finished job rows older than this are deleted (checked at start and every 10 minutes); unset keeps them. */
  retentionSeconds?: number;
}

export interface JobWorker {
  /** Claims right away instead of waiting for the next poll (call after enqueueing). */
  wake(): void;
  /** Stops claiming, waits for running jobs up to the grace period, releases the rest. */
  stop(): Promise<void>;
  /** Jobs running in this process now. */
  running(): number;
}

/** How long stop() waits for jobs it interrupted to wind down before it releases them. */
const STOP_SETTLE_MS = 10_000;

/** Starts the claim loop: Postgres is the queue; any number of processes may run one. */
export function startJobWorker(opts: JobWorkerOptions): JobWorker {
  const kinds = Object.keys(opts.handlers);
  const running = new Map<number, { promise: Promise<void>; abort: AbortController }>();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let claiming = false;
  /** The claim loop in progress, which stop() waits for. */
  let claimed: Promise<void> = Promise.resolve();
  let failures = 0;

  async function runOne(job: JobRow & { takeover?: boolean }): Promise<void> {
    const abort = new AbortController();
    const log = opts.logger.child({ job_id: job.id, job_kind: job.kind, resource_id: job.resource_id });
    const heartbeat = async () => {
      const ok = await renewLease(opts.db, job.id, opts.owner, opts.leaseSeconds).catch(() => true);
      if (!ok) abort.abort(new Error('lease lost'));
    };
    const beat = setInterval(() => void heartbeat(), Math.max(1000, (opts.leaseSeconds * 1000) / 3));
    const handler = opts.handlers[job.kind]!;
    const m = opts.metrics;
    const promise = (async () => {
      const started = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
      const end = (outcome: string) => m?.duration.observe({ kind: job.kind, outcome }, seconds());
      try {
        log.info({ attempt: job.attempts, takeover: job.takeover }, 'job started');
        m?.started.inc({ kind: job.kind });
        if (job.takeover) m?.takeovers.inc({ kind: job.kind });
        const failure = await handler(job, { signal: abort.signal, heartbeat, log });
        if (failure) {
          await finishJob(opts.db, job.id, opts.owner, 'failed', failure.reason);
          m?.failed.inc({ kind: job.kind });
          end('failed');
          log.warn({ outcome: 'failed', reason: failure.reason, duration_s: seconds() }, 'job finished: failed');
          return;
        }
        await finishJob(opts.db, job.id, opts.owner, 'done');
        m?.succeeded.inc({ kind: job.kind });
        end('succeeded');
        log.info({ outcome: 'succeeded', duration_s: seconds() }, 'job finished');
      } catch (err) {
        if (isConnectionError(err)) {
          // NOTE: the database went away under the handler, so it could not settle its resource
          // either; failing the job would leave the resource busy forever. Requeue it: the next
          // claim (attempts > 1) re-runs or recovers it. If even this fails, the lease expires.
          end('requeued');
          log.warn({ err, outcome: 'requeued', duration_s: seconds() }, 'job interrupted by a database failure; requeued');
          await releaseJob(opts.db, job.id, opts.owner).catch(() => {});
          return;
        }
        if (abort.signal.aborted) {
          // Not a failure of the operation: at shutdown stop() gives the job back, after a lost
          // lease another worker owns it now. Either way the next owner continues it.
          const reason = abort.signal.reason instanceof Error ? abort.signal.reason.message : String(abort.signal.reason);
          end('released');
          if (stopping) log.info({ outcome: 'released', reason, duration_s: seconds() }, 'job interrupted by shutdown; released');
          else log.warn({ outcome: 'released', reason, duration_s: seconds() }, 'job interrupted: lease lost to another worker');
          return;
        }
        const reason = err instanceof Error ? err.message : String(err);
        m?.failed.inc({ kind: job.kind });
        end('failed');
        log.error({ err, outcome: 'failed', reason, duration_s: seconds() }, 'job finished: failed');
        await finishJob(opts.db, job.id, opts.owner, 'failed', reason).catch(() => {});
      } finally {
        clearInterval(beat);
      }
    })();
    running.set(job.id, { promise, abort });
    await promise;
    running.delete(job.id);
    schedule(0);
  }

  async function claimLoop(): Promise<void> {
    if (claiming || stopping) return;
    claiming = true;
    try {
      while (!stopping && running.size < opts.maxConcurrent) {
        const job = await claimJob(opts.db, opts.owner, opts.leaseSeconds, kinds, opts.hostId);
        failures = 0;
        if (!job) break;
        if (stopping) {
          // stop() began while the claim was in flight: the job has not started, so give it back.
          await unclaimJob(opts.db, job.id, opts.owner).catch(() => {});
          break;
        }
        void runOne(job);
      }
    } catch (err) {
      // Database down or restarting: keep polling with backoff, never crash the process.
      failures++;
      opts.logger.warn({ err }, 'job claim failed; retrying');
    } finally {
      claiming = false;
    }
    schedule(Math.min(opts.pollMs * 2 ** failures, 10_000));
  }

  function schedule(ms: number): void {
    if (stopping) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      // A loop already claiming is the one stop() must wait for: keep it.
      if (!claiming) claimed = claimLoop();
    }, ms);
  }

  // NOTE: the host's liveness for the API (a host-bound job whose host has no live worker shows
  // "waiting for host X"): one row per process, renewed as often as a job lease, expiring with it.
  const beat = async () => {
    try {
      await beatWorker(opts.db, opts.owner, opts.hostId, opts.leaseSeconds);
    } catch (err) {
      opts.logger.warn({ err }, 'worker heartbeat failed; retrying');
    }
  };
  const firstBeat = beat().then(() => pruneDeadWorkers(opts.db, 86_400).catch(() => 0));
  const beatTimer = setInterval(() => void beat(), Math.max(1000, (opts.leaseSeconds * 1000) / 3)).unref();

  let pruneTimer: NodeJS.Timeout | undefined;
  const prune = async () => {
    if (opts.retentionSeconds === undefined) return;
    try {
      const n = await pruneFinishedJobs(opts.db, opts.retentionSeconds);
      if (n) opts.logger.info({ pruned: n }, 'finished job rows pruned');
    } catch (err) {
      opts.logger.warn({ err }, 'pruning finished job rows failed; retrying later');
    }
  };
  if (opts.retentionSeconds !== undefined) {
    void prune();
    pruneTimer = setInterval(() => void prune(), 600_000).unref();
  }

  schedule(0);
  return {
    wake: () => schedule(0),
    running: () => running.size,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      clearInterval(pruneTimer);
      await claimed;
      const settled = (ms: number) =>
        Promise.race([Promise.allSettled([...running.values()].map((r) => r.promise)), new Promise((r) => setTimeout(r, ms).unref())]);
      await settled(opts.shutdownGraceMs ?? 30_000);
      // NOTE: the jobs still running are stopped, given a moment to wind down (in-flight PUTs
      // end, the stored objects are recorded) so that the next owner resumes from the most,
      // then released: queued again for any worker that may run them (this one after restart).
      const left = [...running.entries()];
      for (const [, r] of left) r.abort.abort(new Error('shutdown'));
      await settled(STOP_SETTLE_MS);
      for (const [id] of left) await releaseJob(opts.db, id, opts.owner).catch(() => {});
      clearInterval(beatTimer);
      await firstBeat;
      await removeWorker(opts.db, opts.owner).catch(() => {});
    },
  };
}
