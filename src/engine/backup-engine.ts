import { Registry } from 'prom-client';
import type { ObjectStore } from '../storage/object-store.js';
import { deletePrefix, runBackup } from './backup-writer.js';
import type { EngineContext } from './engine-context.js';
import { BufferPool, Semaphore } from './concurrency.js';
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
  const pool = new WorkerPool(options.workerThreads);
  // Memory = (chunks in flight + buffers) x object size for the whole engine, however many
  // operations run: one buffer per worker plus one being read or written keeps the pool busy.
  // A chunk in flight holds at most one `encoded` buffer, its compressed bodies, so that pool
  // never waits; it is the same memory fresh bodies took before, without their page faults.
  // A restore holds at most one body and one decode buffer per object, both pooled: its memory is
  // (buffers + bodies) x object size, whatever the volume's size. One body per worker: a third
  // bought no speed at 1 GiB (posix or moto) and cost 20 MiB of peak RSS.
  const ctx: EngineContext = {
    options: engineOptions,
    pool,
    metrics: createEngineMetrics(registry),
    chunkBudget: new Semaphore(Math.max(1, options.chunksInFlight)),
    buffers: new BufferPool(pool.size + 1, options.objectSize + 1),
    bodies: new BufferPool(pool.size, options.objectSize + 1),
    encoded: new BufferPool(Math.max(1, options.chunksInFlight), options.objectSize + 1),
    backupsRunning: 0,
  };
  return {
    registry,
    backup: (store, req, hooks) => runBackup(ctx, store, req, hooks),
    restore: (store, req, hooks) => runRestore(ctx, store, req, hooks),
    verify: (store, chain, hooks) => runVerify(ctx, store, chain, hooks),
    deleteBackup: (store: ObjectStore, location) => deletePrefix(store, location.container, location.prefix),
    close: () => ctx.pool.close(),
  };
}
