import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { REDACTED_PATHS, buildApp, buildCbrApp, buildMetricsApp } from './app.js';
import { createJobMetrics } from './jobs/job-metrics.js';
import { ConfigError, loadConfig } from './config.js';
import { DataDirBusyError } from './db/embedded-lock.js';
import { startJobWorker, type JobWorker } from './jobs/worker.js';
import { type InstanceSupervisor, startInstanceSupervisor } from './domain/trove/instances/supervisor.js';
import { systemClock } from './domain/cbr/schedule/clock.js';
import { startCbrScheduler, type CbrScheduler } from './domain/cbr/schedule/loop.js';
import { createServices } from './services.js';
import { PosixObjectStore } from './storage/posix-store.js';

/**
 * Start: config -> database (embedded when DATABASE_URL is unset) -> migrations ->
 * the API (ROLE api|all) and the job worker (ROLE worker|all). SIGTERM/SIGINT stop
 * accepting, let running jobs finish or release them, then close everything.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // People read a terminal, machines read pipes and files: pretty on a TTY, JSON lines otherwise.
  const pretty = process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {};
  const logger = pino({ level: config.LOG_LEVEL, redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' }, ...pretty });
  const services = await createServices(config, logger);
  const owner = `${config.HOST_ID}:${process.pid}:${randomBytes(3).toString('hex')}`;

  const app =
    config.ROLE === 'worker'
      ? null
      : await buildApp({ ...services, wakeJobs: () => services.wakeJobs?.(), logger: { level: config.LOG_LEVEL, ...pretty } });
  // The CBR listener shares every service with the Cinder one (same database, store, volumes).
  const cbrApp =
    config.ROLE === 'worker' || config.CBR_PORT === 0
      ? null
      : await buildCbrApp({ ...services, wakeJobs: () => services.wakeJobs?.(), logger: { level: config.LOG_LEVEL, ...pretty } });
  const metricsApp =
    config.METRICS_PORT === undefined ? null : await buildMetricsApp({ ...services, logger: { level: config.LOG_LEVEL, ...pretty } });
  // Registered in every role: the queue depth gauge reads the shared jobs table.
  const jobMetrics = createJobMetrics(services.metrics, services.db);
  let worker: JobWorker | null = null;
  let supervisor: InstanceSupervisor | null = null;
  let scheduler: CbrScheduler | null = null;
  if (config.ROLE !== 'api') {
    // A put cut by a kill leaves a temp file no listing shows (so no delete or orphan GC finds it).
    if (services.store instanceof PosixObjectStore) {
      const removed = await services.store.removeAbandonedTemporaries();
      if (removed) logger.warn({ removed }, 'removed temp files of store writes cut short by a stopped process');
    }
    const settled = await services.recover();
    if (settled.length) logger.warn({ settled }, 'settled work left by a stopped process');
    worker = startJobWorker({
      db: services.db,
      owner,
      hostId: config.HOST_ID,
      handlers: services.jobHandlers,
      maxConcurrent: config.BACKUP_MAX_OPERATIONS,
      leaseSeconds: config.JOB_LEASE_SECONDS,
      pollMs: config.JOB_POLL_MS,
      logger: logger.child({ role: 'worker' }),
      metrics: jobMetrics,
      shutdownGraceMs: config.SHUTDOWN_GRACE_SECONDS * 1000,
      retentionSeconds: config.JOB_RETENTION_HOURS === 0 ? undefined : config.JOB_RETENTION_HOURS * 3600,
    });
    services.wakeJobs = () => worker?.wake();
    // Trove instances of this host: start or adopt every one that should run, restart any that dies.
    supervisor = await startInstanceSupervisor(services, logger.child({ role: 'trove-supervisor' }));
    // CBR policies: every worker process runs the pass; the database decides which one fires a trigger.
    scheduler = startCbrScheduler({
      db: services.db,
      config: services.config,
      store: services.store,
      clock: systemClock,
      log: logger.child({ role: 'cbr-scheduler' }),
      owner,
      windowMs: config.CBR_SCHEDULER_WINDOW_SECONDS * 1000,
      tickMs: config.CBR_SCHEDULER_TICK_SECONDS * 1000,
      wakeJobs: () => services.wakeJobs?.(),
    });
  }
  if (app) {
    await app.listen({ host: config.HOST, port: config.PORT });
  }
  if (metricsApp) {
    await metricsApp.listen({ host: config.HOST, port: config.METRICS_PORT });
  }
  if (cbrApp) {
    await cbrApp.listen({ host: config.CBR_HOST ?? config.HOST, port: config.CBR_PORT });
  }
  logger.info({ role: config.ROLE, owner }, 'cinder-backup service started');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // The grace period, then up to STOP_SETTLE_MS for released jobs to wind down, then the rest.
    const force = setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_SECONDS * 1000 + 30_000).unref();
    try {
      await app?.close();
      await cbrApp?.close();
      await metricsApp?.close();
      await scheduler?.stop();
      await worker?.stop();
      await supervisor?.stop();
      await services.close();
      clearTimeout(force);
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'unclean stop');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  // A busy DATA_DIR is an operator's situation, not a bug: its message alone says what to do.
  const text = err instanceof DataDirBusyError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`fatal: ${text}\n`);
  process.exit(1);
});
