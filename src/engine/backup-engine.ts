import { Registry } from 'prom-client';
import type { ObjectStore } from '../storage/object-store.js';
import { deletePrefix, runBackup } from './backup-writer.js';
import type { EngineContext } from './engine-context.js';
import { createEngineMetrics } from './engine-metrics.js';
import type { BackupEngine, EngineOptions } from './engine-api.js';
import { runRestore, runVerify } from './restore-reader.js';
import { WorkerPool } from './worker-pool.js';

export interface BackupEngineOptions extends EngineOptions {
  /** Size of the hash/compress worker pool (one per core is the measured sweet spot). */
  workerThreads: number;
  /** Where the engine's Prometheus series go; a private registry when omitted. */
  registry?: Registry;
}

/**
 * Creates the backup engine (Cinder chunked-driver format, worker-thread pool). The pool lives
 * until `close()`; one engine serves many concurrent operations. `registry` exposes its metrics.
 */
export function createBackupEngine(options: BackupEngineOptions): BackupEngine & { readonly registry: Registry } {
  if (options.blockSize <= 0 || options.objectSize <= 0 || options.objectSize % options.blockSize !== 0) {
    throw new Error(`object size ${options.objectSize} must be a positive multiple of block size ${options.blockSize}`);
  }
  const registry = options.registry ?? new Registry();
  const { workerThreads: _threads, registry: _registry, ...engineOptions } = options;
  const ctx: EngineContext = { options: engineOptions, pool: new WorkerPool(options.workerThreads), metrics: createEngineMetrics(registry) };
  return {
    registry,
    backup: (store, req, hooks) => runBackup(ctx, store, req, hooks),
    restore: (store, req, hooks) => runRestore(ctx, store, req, hooks),
    verify: (store, chain, hooks) => runVerify(ctx, store, chain, hooks),
    deleteBackup: (store: ObjectStore, location) => deletePrefix(store, location.container, location.prefix),
    close: () => ctx.pool.close(),
  };
}
