import { Counter, Histogram, Registry } from 'prom-client';

/** The engine's Prometheus series, registered on the registry the caller passes (never the global one). */
export interface EngineMetrics {
  bytesRead: Counter<'operation'>;
  bytesUploaded: Counter;
  bytesStored: Counter;
  bytesFetched: Counter;
  chunkSeconds: Histogram<'operation'>;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  // Two engines on one registry (tests, a bench) share the series instead of failing to register twice.
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Creates (or reuses) the engine's counters and chunk latency histogram on `registry`. */
export function createEngineMetrics(registry: Registry): EngineMetrics {
  const registers = [registry];
  return {
    bytesRead: getOrCreate(
      registry,
      'backup_engine_bytes_read_total',
      () =>
        new Counter({
          name: 'backup_engine_bytes_read_total',
          help: 'Volume bytes read by backups and verified by restores/verifies',
          labelNames: ['operation'],
          registers,
        }),
    ),
    bytesUploaded: getOrCreate(
      registry,
      'backup_engine_bytes_uploaded_total',
      () => new Counter({ name: 'backup_engine_bytes_uploaded_total', help: 'Uncompressed bytes of data objects uploaded', registers }),
    ),
    bytesStored: getOrCreate(
      registry,
      'backup_engine_bytes_stored_total',
      () =>
        new Counter({
          name: 'backup_engine_bytes_stored_total',
          help: 'Bytes written to the object store (compressed, all objects)',
          registers,
        }),
    ),
    bytesFetched: getOrCreate(
      registry,
      'backup_engine_bytes_fetched_total',
      () => new Counter({ name: 'backup_engine_bytes_fetched_total', help: 'Bytes read from the object store', registers }),
    ),
    chunkSeconds: getOrCreate(
      registry,
      'backup_engine_chunk_seconds',
      () =>
        new Histogram({
          name: 'backup_engine_chunk_seconds',
          help: 'Time to process one chunk or object, read to stored (backup) or fetched to written (restore)',
          labelNames: ['operation'],
          buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers,
        }),
    ),
  };
}
