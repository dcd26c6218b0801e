import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from './config.js';
import { createDb } from './db/connection.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { migrateToLatest } from './db/migrate.js';
import type { Database } from './db/schema.js';
import type { BackupEngine } from './engine/engine-api.js';
import { createBackupEngine } from './engine/backup-engine.js';
import type { JobHandlers } from './jobs/kinds.js';
import type { AuthStrategy } from './http/auth/auth-strategy.js';
import { createKeystoneStrategy, keystoneOptionsFromConfig } from './http/auth/keystone-strategy.js';
import { createNoauthStrategy } from './http/auth/noauth-strategy.js';
import { recoverStuckBackups } from './domain/backups/worker/recovery.js';
import { createCbrAwareBackupJobHandlers } from './domain/cbr/worker/job-hooks.js';
import { troveBackupJobHandlers } from './domain/trove/backups/jobs.js';
import { troveInstanceJobHandlers } from './domain/trove/instances/jobs.js';
import { snapshotJobHandlers } from './domain/volumes/worker/snapshot-jobs.js';
import { volumeJobHandlers } from './domain/volumes/worker/volume-jobs.js';
import { VolumeUploads } from './domain/volumes/uploads.js';
import { createObjectStore } from './storage/create-store.js';
import type { ObjectStore } from './storage/object-store.js';
import { FileVolumeBackend } from './volumes/file-backend.js';

/** Everything a process is made of, built once (the composition root behind main.ts). */
export interface Services {
  config: Config;
  db: Kysely<Database>;
  uploads: VolumeUploads;
  store: ObjectStore;
  volumes: FileVolumeBackend;
  engine: BackupEngine;
  auth: AuthStrategy;
  metrics: Registry;
  /** One handler per JobKind (jobs/kinds.ts). */
  jobHandlers: JobHandlers;
  /** Set by main once the job worker runs: routes call it after enqueueing. */
  wakeJobs?: () => void;
  /** Settles work left by a dead process (Cinder's start-up cleanup, BackupManager._cleanup_incomplete_backup_operations in https://opendev.org/openstack/cinder/src/branch/master/cinder/backup/manager.py). */
  recover(): Promise<Array<{ id: string; action: string }>>;
  close(): Promise<void>;
}

/**
 * Opens the database (embedded Postgres under DATA_DIR when DATABASE_URL is unset),
 * migrates it, and builds the store, volume backend, engine and auth strategy.
 */
export async function createServices(config: Config, logger: Logger): Promise<Services> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    logger.info({ dir: join(config.DATA_DIR, 'postgres') }, 'DATABASE_URL unset: starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres(join(config.DATA_DIR, 'postgres'), (m) => logger.debug({ postgres: m }), config.HOST_ID);
    url = embedded.url;
    // The port is chosen at start: logged so CLIs (gc, migrate) can reach this cluster via DATABASE_URL.
    logger.info({ port: embedded.port, url: url.replace(/:[^:@/]*@/, ':***@') }, 'embedded PostgreSQL listening');
  }
  const db = createDb({ url, poolSize: config.DATABASE_POOL_SIZE, onPoolError: (err) => logger.warn({ err }, 'database connection lost') });
  try {
    const applied = await migrateToLatest(db);
    if (applied.length) logger.info({ applied }, 'migrations applied');
  } catch (err) {
    await db.destroy();
    await embedded?.stop();
    throw err;
  }
  // Data uploads hold a connection while the client sends: a pool of their own, never this one.
  const uploads = new VolumeUploads(
    createDb({ url, poolSize: config.DATA_UPLOADS_PER_PROCESS, onPoolError: (err) => logger.warn({ err }, 'database connection lost') }),
    { perProject: config.DATA_UPLOADS_PER_PROJECT, perProcess: config.DATA_UPLOADS_PER_PROCESS },
  );
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const volumes = new FileVolumeBackend(config.DATA_DIR);
  await volumes.init();
  const store = createObjectStore(config);
  const engine = createBackupEngine({
    compression: config.BACKUP_COMPRESSION,
    zstdLevel: config.BACKUP_ZSTD_LEVEL,
    objectSize: config.BACKUP_OBJECT_SIZE,
    blockSize: config.BACKUP_BLOCK_SIZE,
    chunksInFlight: config.BACKUP_CHUNKS_IN_FLIGHT,
    uploadConcurrency: config.BACKUP_UPLOAD_CONCURRENCY,
    workerThreads: config.BACKUP_WORKER_THREADS,
    registry: metrics,
  });
  const auth =
    config.AUTH_STRATEGY === 'keystone'
      ? createKeystoneStrategy(keystoneOptionsFromConfig(config))
      : createNoauthStrategy({
          adminProjects: config.NOAUTH_ADMIN_PROJECTS,
          adminToken: config.NOAUTH_ADMIN_TOKEN,
          memberRoles: config.NOAUTH_ROLES,
        });
  // wakeJobs is set on `services` later by main: the handlers reach it through this closure.
  const wakeJobs = () => services.wakeJobs?.();
  const volumeDeps = { db, volumes, config, wakeJobs };
  // Typed by JobHandlers (complete over JobKind): a kind without a handler is a type error here.
  const jobHandlers: JobHandlers = {
    ...volumeJobHandlers(volumeDeps),
    ...snapshotJobHandlers(volumeDeps),
    ...createCbrAwareBackupJobHandlers({ db, store, engine, volumes, config }),
    ...troveInstanceJobHandlers({ db, config, wakeJobs }),
    ...troveBackupJobHandlers({ db, config, store, engine, wakeJobs }),
  };
  const services: Services = {
    config,
    db,
    uploads,
    store,
    volumes,
    engine,
    auth,
    metrics,
    jobHandlers,
    recover: () => recoverStuckBackups(services),
    async close() {
      await engine.close();
      await store.close();
      await auth.close?.();
      await uploads.close();
      await db.destroy();
      await embedded?.stop();
    },
  };
  return services;
}
