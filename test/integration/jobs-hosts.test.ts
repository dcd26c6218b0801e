import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beatWorker } from '../../src/db/worker-heartbeats-repository.js';
import { HOST_BOUND_KINDS, JOB_KINDS, type JobHandlers, type JobKind, enqueueJob } from '../../src/jobs/kinds.js';
import { type JobWorker, startJobWorker } from '../../src/jobs/worker.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';

// Host-bound jobs: two workers with different HOST_IDs on one database.
const silent = pino({ level: 'silent' });
let a: TestApp;
beforeAll(async () => {
  a = await createTestApp({ HOST_ID: 'host-a', NOAUTH_ADMIN_PROJECTS: 'adminproj' });
});
afterAll(async () => a.close());

/** A worker on `hostId` whose handlers (for every kind) only record where each job ran. */
function recordingWorker(hostId: string, ran: Map<string, string[]>): JobWorker {
  const record = async (job: { resource_id: string }) => {
    ran.set(job.resource_id, [...(ran.get(job.resource_id) ?? []), hostId]);
    await new Promise((r) => setTimeout(r, 20));
  };
  const handlers = Object.fromEntries(JOB_KINDS.map((k) => [k, record])) as unknown as JobHandlers<JobKind>;
  return startJobWorker({
    db: a.t.db,
    owner: `w-${hostId}`,
    hostId,
    handlers,
    maxConcurrent: 2,
    leaseSeconds: 30,
    pollMs: 20,
    logger: silent,
  });
}

async function settled(ids: string[], ms = 15_000): Promise<Record<string, string>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const rows = await a.t.db.selectFrom('jobs').select(['resource_id', 'status']).where('resource_id', 'in', ids).execute();
    if (rows.every((r) => r.status === 'done') || Date.now() > deadline)
      return Object.fromEntries(rows.map((r) => [r.resource_id, r.status]));
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('host-bound jobs', () => {
  it('the kinds that touch a host are exactly those that read or write a volume or an instance cluster', () => {
    expect([...HOST_BOUND_KINDS].sort()).toEqual(
      [
        'backup',
        'restore',
        'snapshot_create',
        'snapshot_delete',
        'trove_backup',
        'trove_instance_create',
        'trove_instance_delete',
        'trove_instance_restore',
        'volume_copy',
      ].sort(),
    );
  });

  it('a host-bound job runs only on its host; a store-only job on any worker', async () => {
    const ran = new Map<string, string[]>();
    const onA = Array.from({ length: 4 }, () => randomUUID());
    const onB = Array.from({ length: 4 }, () => randomUUID());
    const anywhere = Array.from({ length: 8 }, () => randomUUID());
    for (const id of onA) await enqueueJob(a.t.db, { kind: 'trove_backup', resourceId: id, hostId: 'host-a' });
    for (const id of onB) await enqueueJob(a.t.db, { kind: 'backup', resourceId: id, hostId: 'host-b' });
    for (const id of anywhere) await enqueueJob(a.t.db, { kind: 'trove_backup_delete', resourceId: id });
    const workers = [recordingWorker('host-b', ran), recordingWorker('host-a', ran)];
    const status = await settled([...onA, ...onB, ...anywhere]);
    await Promise.all(workers.map((w) => w.stop()));
    expect(Object.values(status).every((s) => s === 'done')).toBe(true);
    for (const id of onA) expect(ran.get(id)).toEqual(['host-a']);
    for (const id of onB) expect(ran.get(id)).toEqual(['host-b']);
    for (const id of anywhere) expect(ran.get(id)).toHaveLength(1);
    // Both took store-only work: neither is reserved to one host.
    expect(new Set(anywhere.map((id) => ran.get(id)![0]))).toEqual(new Set(['host-a', 'host-b']));
  });

  it('a host-bound job of a host without a worker stays queued; a row without a host (older data) runs anywhere', async () => {
    const ran = new Map<string, string[]>();
    const orphan = randomUUID();
    const legacy = randomUUID();
    await enqueueJob(a.t.db, { kind: 'trove_instance_restore', resourceId: orphan, hostId: 'host-gone' });
    await enqueueJob(a.t.db, { kind: 'volume_copy', resourceId: legacy, hostId: null });
    const w = recordingWorker('host-a', ran);
    await settled([legacy]);
    await new Promise((r) => setTimeout(r, 300));
    await w.stop();
    expect(ran.get(legacy)).toEqual(['host-a']);
    expect(ran.has(orphan)).toBe(false);
    const row = await a.t.db.selectFrom('jobs').selectAll().where('resource_id', '=', orphan).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'queued', host_id: 'host-gone', attempts: 0 });
  });

  it('the API records the process HOST_ID on volumes and instances, and their jobs carry it', async () => {
    const project = 'aaaa1111';
    const h = { 'x-auth-token': `u:${project}`, 'content-type': 'application/json' };
    const inst = await a.app.inject({
      method: 'POST',
      url: `/v1.0/${project}/instances`,
      headers: h,
      payload: { instance: { name: 'hosted', flavorRef: '1', volume: { size: 1 } } },
    });
    expect(inst.statusCode).toBe(200);
    const id = inst.json().instance.id as string;
    const row = await a.t.db.selectFrom('trove_instances').select('host_id').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.host_id).toBe('host-a');
    const job = await a.t.db.selectFrom('jobs').select(['kind', 'host_id']).where('resource_id', '=', id).executeTakeFirstOrThrow();
    expect(job).toEqual({ kind: 'trove_instance_create', host_id: 'host-a' });

    const vol = await a.app.inject({ method: 'POST', url: `/v3/${project}/volumes`, headers: h, payload: { volume: { size: 1 } } });
    expect(vol.statusCode).toBe(202);
    const volId = vol.json().volume.id as string;
    const v = await a.t.db.selectFrom('volumes').select('host').where('id', '=', volId).executeTakeFirstOrThrow();
    expect(v.host).toBe('host-a@file#file');
    for (let i = 0; i < 100; i++) {
      const st = (await a.app.inject({ url: `/v3/${project}/volumes/${volId}`, headers: h })).json().volume.status;
      if (st === 'available') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const bk = await a.app.inject({ method: 'POST', url: `/v3/${project}/backups`, headers: h, payload: { backup: { volume_id: volId } } });
    expect(bk.statusCode).toBe(202);
    const bjob = await a.t.db
      .selectFrom('jobs')
      .select(['kind', 'host_id'])
      .where('resource_id', '=', bk.json().backup.id)
      .executeTakeFirstOrThrow();
    expect(bjob).toEqual({ kind: 'backup', host_id: 'host-a' });
  });
});

describe('a host without a live worker', () => {
  const project = 'bbbb2222';
  const h = { 'x-auth-token': `u:${project}`, 'content-type': 'application/json' };
  const progress = async (id: string) => (await a.app.inject({ url: `/v3/${project}/backups/${id}/progress`, headers: h })).json().progress;

  it('leaves its backup waiting (never error) with the reason in the progress extension, until a worker of the host beats again', async () => {
    const vol = await a.app.inject({ method: 'POST', url: `/v3/${project}/volumes`, headers: h, payload: { volume: { size: 1 } } });
    const volId = vol.json().volume.id as string;
    for (let i = 0; i < 100; i++) {
      if ((await a.app.inject({ url: `/v3/${project}/volumes/${volId}`, headers: h })).json().volume.status === 'available') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const bk = await a.app.inject({ method: 'POST', url: `/v3/${project}/backups`, headers: h, payload: { backup: { volume_id: volId } } });
    const id = bk.json().backup.id as string;

    // No worker of host-a was ever seen.
    const never = await progress(id);
    expect(never).toMatchObject({ status: 'creating', operation: 'backup', phase: 'waiting' });
    expect(never.waiting_reason).toMatch(/^waiting for host host-a: no worker of it has been seen/);

    // A worker of host-a is up (it runs no backups here, so the job stays queued): queued, no reason.
    const w = startJobWorker({
      db: a.t.db,
      owner: 'host-a:1:alive',
      hostId: 'host-a',
      handlers: { verify: async () => {} },
      maxConcurrent: 1,
      leaseSeconds: 30,
      pollMs: 50,
      logger: silent,
    });
    await until('a live host-a', async () => ((await progress(id)).phase === 'queued' ? true : undefined), 10_000);
    expect((await progress(id)).waiting_reason).toBeNull();
    const beat = await a.t.db.selectFrom('worker_heartbeats').selectAll().where('owner', '=', 'host-a:1:alive').executeTakeFirstOrThrow();
    expect(beat.host_id).toBe('host-a');

    // Its process is killed: the heartbeat is not renewed and expires (as SIGKILL leaves it). The
    // job was running under the dead worker's lease, which expired too.
    await a.t.db
      .updateTable('worker_heartbeats')
      .set({ expires_at: sql<Date>`now() - interval '1 second'`, seen_at: sql<Date>`now() - interval '31 seconds'` })
      .where('host_id', '=', 'host-a')
      .execute();
    await a.t.db
      .updateTable('jobs')
      .set({ status: 'running', attempts: 1, lease_owner: 'host-a:1:alive', lease_expires_at: sql<Date>`now() - interval '1 second'` })
      .where('resource_id', '=', id)
      .execute();
    // (read before the worker's own timer renews it, 10 s later)
    const gone = await progress(id);
    expect(gone).toMatchObject({ status: 'creating', phase: 'waiting' });
    expect(gone.waiting_reason).toMatch(/^waiting for host host-a: its last worker was seen at \d{4}-\d\d-\d\dT/);
    expect(gone.waiting_reason).toContain('HOST_ID=host-a');

    // A graceful stop removes the worker's row: no live worker, the backup still waits, not error.
    await w.stop();
    expect(await a.t.db.selectFrom('worker_heartbeats').select('owner').where('owner', '=', 'host-a:1:alive').execute()).toEqual([]);
    expect(await progress(id)).toMatchObject({ status: 'creating', phase: 'waiting' });

    // A worker of the host is back: the job is claimable there again, so it no longer waits.
    await beatWorker(a.t.db, 'host-a:2:back', 'host-a', 30);
    const back = await progress(id);
    expect(back).toMatchObject({ status: 'creating', waiting_reason: null });
    expect(back.phase).not.toBe('waiting');
    await a.t.db.updateTable('jobs').set({ status: 'done', lease_owner: null }).where('resource_id', '=', id).execute();
  });
});
