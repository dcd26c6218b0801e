import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { countQueuedJobs } from '../db/jobs-repository.js';
import type { Database } from '../db/schema.js';

/** The job worker's Prometheus series (one set per registry). */
export interface JobMetrics {
  started: Counter<'kind'>;
  succeeded: Counter<'kind'>;
  failed: Counter<'kind'>;
  duration: Histogram<'kind' | 'outcome'>;
  takeovers: Counter<'kind'>;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/**
 * Registers the job series on `registry`. The queue depth gauge reads the jobs table when
 * scraped, so every process (API or worker) reports the same shared queue.
 */
export function createJobMetrics(registry: Registry, db: Kysely<Database>): JobMetrics {
  const registers = [registry];
  const counter = (name: string, help: string) =>
    getOrCreate(registry, name, () => new Counter({ name, help, labelNames: ['kind'] as const, registers }));
  getOrCreate(
    registry,
    'cinder_jobs_queue_depth',
    () =>
      new Gauge({
        name: 'cinder_jobs_queue_depth',
        help: 'Jobs waiting or running, by kind and state (queued, running, stalled = lease expired)',
        labelNames: ['kind', 'state'] as const,
        registers,
        async collect() {
          this.reset();
          for (const r of await countQueuedJobs(db)) this.set({ kind: r.kind, state: r.state }, r.n);
        },
      }),
  );
  return {
    started: counter('cinder_jobs_started_total', 'Jobs started by this process, by kind'),
    succeeded: counter('cinder_jobs_succeeded_total', 'Jobs that ended with their operation done, by kind'),
    failed: counter('cinder_jobs_failed_total', 'Jobs whose operation failed (error status, verify mismatch, exception), by kind'),
    takeovers: counter('cinder_jobs_lease_takeovers_total', 'Jobs claimed after their previous owner lost its lease, by kind'),
    duration: getOrCreate(
      registry,
      'cinder_job_duration_seconds',
      () =>
        new Histogram({
          name: 'cinder_job_duration_seconds',
          help: 'Job run time in seconds, by kind and outcome',
          labelNames: ['kind', 'outcome'] as const,
          buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400],
          registers,
        }),
    ),
  };
}
