import type { EngineMetrics } from './engine-metrics.js';
import type { EngineOptions } from './engine-api.js';
import type { WorkerPool } from './worker-pool.js';

/** What one engine instance shares between its operations. */
export interface EngineContext {
  options: EngineOptions;
  pool: WorkerPool;
  metrics: EngineMetrics;
}

/** Keys under `prefix` that belong to that backup (`<prefix>-N`, `<prefix>_...`), not to a longer prefix. */
export function ownKeys(keys: string[], prefix: string): string[] {
  return keys.filter((k) => k.length > prefix.length && (k[prefix.length] === '-' || k[prefix.length] === '_'));
}
