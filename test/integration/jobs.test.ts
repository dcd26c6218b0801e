import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimJob, insertJob, finishJob, renewLease } from '../../src/db/jobs-repository.js';
import { startJobWorker } from '../../src/jobs/worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const silent = pino({ level: 'silent' });

describe('job queue on Postgres', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());

  it('two concurrent claimers never take the same job (FOR UPDATE SKIP LOCKED)', async () => {
    const kind = `k-${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 40; i++) await insertJob(t.db, { kind, resourceId: randomUUID() });
    const claimed: number[] = [];
    const claimer = async (owner: string) => {
      for (;;) {
        const job = await claimJob(t.db, owner, 30, [kind], 'h1');
        if (!job) return;
        claimed.push(job.id);
      }
    };
    await Promise.all([claimer('a'), claimer('b'), claimer('c')]);
    expect(claimed).toHaveLength(40);
    expect(new Set(claimed).size).toBe(40);
  });

  it('a running job whose lease expired is claimed again by another worker, and the old owner loses it', async () => {
    const kind = `k-${randomUUID().slice(0, 8)}`;
    const job = await insertJob(t.db, { kind, resourceId: randomUUID() });
    const first = await claimJob(t.db, 'dead', 30, [kind], 'h1');
    expect(first?.id).toBe(job.id);
    expect(await claimJob(t.db, 'other', 30, [kind], 'h1')).toBeNull(); // lease still valid
    await t.db.updateTable('jobs').set({ lease_expires_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', job.id).execute();
    const second = await claimJob(t.db, 'other', 30, [kind], 'h1');
    expect(second?.id).toBe(job.id);
    expect(second?.attempts).toBe(2);
    expect(await renewLease(t.db, job.id, 'dead', 30)).toBe(false);
    expect(await finishJob(t.db, job.id, 'dead', 'done')).toBe(false);
    expect(await finishJob(t.db, job.id, 'other', 'done')).toBe(true);
  });

  it('the worker runs each queued job once, respects the concurrency cap, and marks failures', async () => {
    const ok = `ok-${randomUUID().slice(0, 8)}`;
    const bad = `bad-${randomUUID().slice(0, 8)}`;
    let concurrent = 0;
    let peak = 0;
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) await insertJob(t.db, { kind: ok, resourceId: randomUUID() });
    const failing = await insertJob(t.db, { kind: bad, resourceId: randomUUID() });
    const worker = startJobWorker({
      db: t.db,
      owner: 'w1',
      hostId: 'h1',
      maxConcurrent: 2,
      leaseSeconds: 30,
      pollMs: 20,
      logger: silent,
      handlers: {
        [ok]: async (job) => {
          concurrent++;
          peak = Math.max(peak, concurrent);
          seen.push(job.resource_id);
          await new Promise((r) => setTimeout(r, 30));
          concurrent--;
        },
        [bad]: async () => {
          throw new Error('boom');
        },
      },
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const live = await t.db
        .selectFrom('jobs')
        .select('id')
        .where('kind', 'in', [ok, bad])
        .where('status', 'in', ['queued', 'running'])
        .execute();
      if (live.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await worker.stop();
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    expect(peak).toBeLessThanOrEqual(2);
    const failed = await t.db.selectFrom('jobs').selectAll().where('id', '=', failing.id).executeTakeFirstOrThrow();
    expect(failed.status).toBe('failed');
    expect(failed.last_error).toBe('boom');
  });

  it('stop() lets a job that ends within the grace period finish, and releases one that does not (queued again, then resumed by the next worker)', async () => {
    const quick = `quick-${randomUUID().slice(0, 8)}`;
    const slow = `slow-${randomUUID().slice(0, 8)}`;
    const q = await insertJob(t.db, { kind: quick, resourceId: randomUUID() });
    const s = await insertJob(t.db, { kind: slow, resourceId: randomUUID() });
    let slowStopped = false;
    const handlers = (slowMs: number) => ({
      [quick]: async () => {
        await new Promise((r) => setTimeout(r, 400));
      },
      [slow]: async (_job: unknown, ctx: { signal: AbortSignal }) => {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, slowMs);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            slowStopped = true;
            reject(ctx.signal.reason);
          });
        });
      },
    });
    const opts = { db: t.db, hostId: 'h1', maxConcurrent: 2, leaseSeconds: 30, pollMs: 20, logger: silent };
    const first = startJobWorker({ ...opts, owner: 'stopping', handlers: handlers(60_000), shutdownGraceMs: 1500 });
    const running = async () =>
      (await t.db.selectFrom('jobs').select('id').where('id', 'in', [q.id, s.id]).where('status', '=', 'running').execute()).length;
    for (let i = 0; i < 200 && (await running()) < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const stopAt = Date.now();
    await first.stop();
    expect(Date.now() - stopAt).toBeGreaterThanOrEqual(1400); // the grace period was given
    const row = (id: number) => t.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect((await row(q.id)).status).toBe('done');
    expect(slowStopped).toBe(true);
    expect(await row(s.id)).toMatchObject({ status: 'queued', lease_owner: null, attempts: 1 });
    const next = startJobWorker({ ...opts, owner: 'next', handlers: handlers(50) });
    for (let i = 0; i < 200 && (await row(s.id)).status !== 'done'; i++) await new Promise((r) => setTimeout(r, 20));
    await next.stop();
    expect(await row(s.id)).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('stop() waits for a claim in flight and gives its job back unrun, as if never claimed', async () => {
    const kind = `late-${randomUUID().slice(0, 8)}`;
    const project = `p${randomUUID().slice(0, 7)}`;
    const job = await insertJob(t.db, { kind, resourceId: randomUUID(), projectId: project });
    await t.db.insertInto('job_project_turns').values({ project_id: project, last_claimed_at: sql<Date>`now()` }).execute();
    // Hold the project's turn row: the worker's claim finds the job, then waits on this lock.
    let unlock!: () => void;
    const unlocked = new Promise<void>((r) => (unlock = r));
    const holding = t.db.transaction().execute(async (trx) => {
      await sql`SELECT 1 FROM job_project_turns WHERE project_id = ${project} FOR UPDATE`.execute(trx);
      await unlocked;
    });
    let ran = false;
    const worker = startJobWorker({
      db: t.db,
      owner: 'late',
      hostId: 'h1',
      maxConcurrent: 1,
      leaseSeconds: 30,
      pollMs: 20,
      logger: silent,
      handlers: { [kind]: async () => void (ran = true) },
    });
    const waitingOnLock = async () =>
      Number(
        (
          await sql<{ n: string }>`SELECT count(*) AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query LIKE '%job_project_turns%' AND datname = current_database()`.execute(t.db)
        ).rows[0]!.n,
      );
    let stopped = false;
    try {
      for (let i = 0; i < 250 && (await waitingOnLock()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await waitingOnLock()).toBe(1);
      const stopping = worker.stop().then(() => void (stopped = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(stopped).toBe(false); // the claim is still in flight
      unlock();
      await stopping;
    } finally {
      unlock();
      await holding;
      if (!stopped) await worker.stop();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toBe(false);
    expect(await t.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow()).toMatchObject({
      status: 'queued',
      lease_owner: null,
      attempts: 0,
    });
  });

  it("claims fairly across projects: a project with a long queue holds up another project's job by one job at most", async () => {
    const kind = `k-${randomUUID().slice(0, 8)}`;
    const flood: Array<{ id: number }> = [];
    for (let i = 0; i < 9; i++) flood.push(await insertJob(t.db, { kind, resourceId: randomUUID(), projectId: 'aaaa' }));
    const theirs = await insertJob(t.db, { kind, resourceId: randomUUID(), projectId: 'bbbb' });
    const later = await insertJob(t.db, { kind, resourceId: randomUUID(), projectId: 'cccc' });
    // One worker slot: claim, finish, claim again.
    const order: number[] = [];
    for (;;) {
      const job = await claimJob(t.db, 'w', 30, [kind], 'h');
      if (!job) break;
      order.push(job.id);
      await finishJob(t.db, job.id, 'w', 'done');
    }
    expect(order).toHaveLength(11);
    // Each project waits for at most one job of every other waiting project.
    expect(order.indexOf(theirs.id)).toBeLessThanOrEqual(2);
    expect(order.indexOf(later.id)).toBeLessThanOrEqual(2);
    expect(order.filter((id) => flood.some((j) => j.id === id))).toEqual(flood.map((j) => j.id));

    // While the flooding project has a job running, another project's new job is next.
    for (let i = 0; i < 5; i++) await insertJob(t.db, { kind, resourceId: randomUUID(), projectId: 'aaaa' });
    const running = await claimJob(t.db, 'w', 30, [kind], 'h');
    const next = await insertJob(t.db, { kind, resourceId: randomUUID(), projectId: 'bbbb' });
    expect((await claimJob(t.db, 'w2', 30, [kind], 'h'))?.id).toBe(next.id);
    await finishJob(t.db, running!.id, 'w', 'done');
  });
});
