import type { BufferPool, Semaphore } from './concurrency.js';
import type { EngineMetrics } from './engine-metrics.js';
import type { EngineOptions } from './engine-api.js';
import type { WorkerPool } from './worker-pool.js';

/** What one engine instance shares between its operations. */
export interface EngineContext {
  options: EngineOptions;
  pool: WorkerPool;
  metrics: EngineMetrics;
  /** Chunks (objects) between read or fetch and the end of their upload or write, over all operations. */
  chunkBudget: Semaphore;
  /** Reused chunk-sized buffers (objectSize + 1 bytes: room to detect an over-long object), over all operations. */
  buffers: BufferPool;
  /**
   * Reused buffers of the same size that restores GET stored bodies into, over all operations: a
   * body is held from its GET to the end of its decode, so this caps bodies fetched ahead.
   */
  bodies: BufferPool;
  /**
   * Reused buffers of the same size that backups compress full chunks into, one per chunk in the
   * budget (so never waited on); trimmed when no backup runs, so they cost no memory at rest.
   */
  encoded: BufferPool;
  /** Backups running now (the last to end trims `encoded`). */
  backupsRunning: number;
}

/** Keys under `prefix` that belong to that backup (`<prefix>-N`, `<prefix>_...`), not to a longer prefix. */
export function ownKeys(keys: string[], prefix: string): string[] {
  return keys.filter((k) => k.length > prefix.length && (k[prefix.length] === '-' || k[prefix.length] === '_'));
}
