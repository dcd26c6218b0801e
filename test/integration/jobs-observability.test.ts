import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMetricsApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { insertJob } from '../../src/db/jobs-repository.js';
import { createJobMetrics } from '../../src/jobs/job-metrics.js';
import { type JobHandler, startJobWorker } from '../../src/jobs/worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/** A pino logger whose JSON lines land in `lines`. */
function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('job logs and metrics', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());

  it('logs start and end with the outcome, failures at warn/error with their reason, and counts them by kind', async () => {
    const tag = randomUUID().slice(0, 6);
    const kinds = { ok: `ok-${tag}`, settled: `settled-${tag}`, thrown: `thrown-${tag}` };
    const handlers: Record<string, JobHandler> = {
      [kinds.ok]: async () => {},
      // A handler that settled its resource as failed (restore into error, verify mismatch).
      [kinds.settled]: async () => ({ outcome: 'failed', reason: 'verify mismatch: chunk 3 cannot be decompressed' }),
      [kinds.thrown]: async () => {
        throw new Error('store unreachable');
      },
    };
    const ids = {
      ok: (await insertJob(t.db, { kind: kinds.ok, resourceId: randomUUID() })).id,
      settled: (await insertJob(t.db, { kind: kinds.settled, resourceId: randomUUID() })).id,
      thrown: (await insertJob(t.db, { kind: kinds.thrown, resourceId: randomUUID() })).id,
    };
    // A job another worker claimed and then lost (its lease expired): the next claim is a takeover.
    const lost = await insertJob(t.db, { kind: kinds.ok, resourceId: randomUUID() });
    await t.db
      .updateTable('jobs')
      .set({ status: 'running', lease_owner: 'dead', attempts: 1, lease_expires_at: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', lost.id)
      .execute();
    const registry = new Registry();
    const metrics = createJobMetrics(registry, t.db);
    const { logger, lines } = capture();
    const worker = startJobWorker({
      db: t.db,
      owner: 'w1',
      hostId: 'h1',
      handlers,
      maxConcurrent: 4,
      leaseSeconds: 30,
      pollMs: 20,
      logger,
      metrics,
    });
    try {
      const all = [ids.ok, ids.settled, ids.thrown, lost.id];
      await until(async () => {
        const rows = await t.db.selectFrom('jobs').select('status').where('id', 'in', all).execute();
        return rows.every((r) => r.status === 'done' || r.status === 'failed');
      });
    } finally {
      await worker.stop();
    }
    const of = (id: number, msg: string) => lines.find((l) => l.job_id === id && String(l.msg).startsWith(msg));
    for (const id of Object.values(ids)) expect(of(id, 'job started')).toMatchObject({ level: 30, attempt: 1 });
    expect(of(ids.ok, 'job finished')).toMatchObject({ level: 30, outcome: 'succeeded', job_kind: kinds.ok });
    expect(of(ids.ok, 'job finished')!.duration_s).toEqual(expect.any(Number));
    expect(of(ids.settled, 'job finished')).toMatchObject({
      level: 40,
      outcome: 'failed',
      reason: 'verify mismatch: chunk 3 cannot be decompressed',
    });
    expect(of(ids.thrown, 'job finished')).toMatchObject({ level: 50, outcome: 'failed', reason: 'store unreachable' });
    expect(of(lost.id, 'job started')).toMatchObject({ attempt: 2, takeover: true });
    // No "job done" after a failure any more.
    expect(lines.filter((l) => l.msg === 'job done')).toEqual([]);
    const rows = await t.db
      .selectFrom('jobs')
      .select(['id', 'status', 'last_error'])
      .where('id', '=', ids.settled)
      .executeTakeFirstOrThrow();
    expect(rows).toMatchObject({ status: 'failed', last_error: 'verify mismatch: chunk 3 cannot be decompressed' });

    const text = await registry.metrics();
    expect(text).toContain(`cinder_jobs_started_total{kind="${kinds.ok}"} 2`);
    expect(text).toContain(`cinder_jobs_succeeded_total{kind="${kinds.ok}"} 2`);
    expect(text).toContain(`cinder_jobs_failed_total{kind="${kinds.settled}"} 1`);
    expect(text).toContain(`cinder_jobs_failed_total{kind="${kinds.thrown}"} 1`);
    expect(text).toContain(`cinder_jobs_lease_takeovers_total{kind="${kinds.ok}"} 1`);
    expect(text).toContain(`cinder_job_duration_seconds_count{kind="${kinds.settled}",outcome="failed"} 1`);
  });

  it('reports queue depth by kind and state from the jobs table', async () => {
    const kind = `depth-${randomUUID().slice(0, 6)}`;
    for (let i = 0; i < 3; i++) await insertJob(t.db, { kind, resourceId: randomUUID() });
    const stalled = await insertJob(t.db, { kind, resourceId: randomUUID() });
    await t.db
      .updateTable('jobs')
      .set({ status: 'running', lease_owner: 'dead', lease_expires_at: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', stalled.id)
      .execute();
    const registry = new Registry();
    createJobMetrics(registry, t.db);
    const text = await registry.metrics();
    expect(text).toContain(`cinder_jobs_queue_depth{kind="${kind}",state="queued"} 3`);
    expect(text).toContain(`cinder_jobs_queue_depth{kind="${kind}",state="stalled"} 1`);
  });

  it('prunes finished job rows older than the retention, keeps live and recent ones', async () => {
    const kind = `prune-${randomUUID().slice(0, 6)}`;
    const old = await insertJob(t.db, { kind, resourceId: randomUUID() });
    const recent = await insertJob(t.db, { kind, resourceId: randomUUID() });
    const queuedOld = await insertJob(t.db, { kind, resourceId: randomUUID() });
    await t.db
      .updateTable('jobs')
      .set({ status: 'done', updated_at: sql<Date>`now() - interval '2 hours'` })
      .where('id', '=', old.id)
      .execute();
    await t.db.updateTable('jobs').set({ status: 'failed', updated_at: sql<Date>`now()` }).where('id', '=', recent.id).execute();
    await t.db.updateTable('jobs').set({ created_at: sql<Date>`now() - interval '2 hours'` }).where('id', '=', queuedOld.id).execute();
    const { logger, lines } = capture();
    const worker = startJobWorker({
      db: t.db,
      owner: 'w2',
      hostId: 'h1',
      handlers: {},
      maxConcurrent: 1,
      leaseSeconds: 30,
      pollMs: 50,
      logger,
      retentionSeconds: 3600,
    });
    try {
      await until(() => lines.some((l) => l.msg === 'finished job rows pruned'));
    } finally {
      await worker.stop();
    }
    const left = await t.db.selectFrom('jobs').select('id').where('kind', '=', kind).orderBy('id').execute();
    expect(left.map((r) => r.id)).toEqual([recent.id, queuedOld.id]);
  });

  it('the METRICS_PORT listener (how ROLE=worker is scraped) serves /healthz and /metrics with the job series, and nothing else', async () => {
    const registry = new Registry();
    createJobMetrics(registry, t.db);
    const app = await buildMetricsApp({
      db: t.db,
      metrics: registry,
      config: loadConfig({ ROLE: 'worker', METRICS_PORT: '9100' }),
      logger: false,
    });
    try {
      expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok', database: 'ok' });
      const metrics = await app.inject('/metrics');
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain('cinder_jobs_queue_depth');
      expect(metrics.body).toContain('cinder_job_duration_seconds');
      expect((await app.inject('/v3/p/backups')).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('probes are logged at debug, one line each with method, path, status and duration', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    const registry = new Registry();
    const app = await buildMetricsApp({ db: t.db, metrics: registry, config: loadConfig({}), logger: { level: 'debug', stream } });
    try {
      const res = await app.inject('/healthz');
      const mine = lines.filter((l) => l.request_id === res.headers['x-openstack-request-id'] || l.msg === 'request');
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ level: 20, msg: 'request', method: 'GET', path: '/healthz', status: 200 });
      expect(mine[0]!.duration_ms).toEqual(expect.any(Number));
    } finally {
      await app.close();
    }
  });
});
