import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P1, makeVolume } from '../integration/backups-fixtures.js';
import { backupVia, expectFaultBody, startApiWorld, writeAt, type ApiWorld } from './api-world.js';
import { baseSeed, report, rounds, seededRandomDelay } from './helpers.js';

/**
 * Conflicting requests fired together through the API (real Postgres, real worker): exactly
 * one wins with 202, the others get Cinder's 400 (or 409), and the state stays consistent.
 * Repeated with seeded random delays between the two requests.
 */
let w: ApiWorld;
const seed = baseSeed();
const delay = seededRandomDelay(seed, 15);
const figures = { runs: 0, conflicts: 0, bothAccepted: 0 };

beforeAll(async () => {
  w = await startApiWorld();
}, 120_000);
afterAll(async () => {
  report('races', { seed, ...figures });
  await w?.env.close();
});

const post = async (path: string, body: unknown) => {
  await delay();
  const r = await w.env.app.inject({
    method: 'POST',
    url: `/v3/${P1}${path}`,
    headers: { 'x-auth-token': `u:${P1}`, 'openstack-api-version': 'volume 3.70' },
    payload: body as object,
  });
  return { status: r.statusCode, body: r.body, json: JSON.parse(r.body || 'null') };
};
const del = async (path: string) => {
  await delay();
  const r = await w.env.app.inject({ method: 'DELETE', url: `/v3/${P1}${path}`, headers: { 'x-auth-token': `u:${P1}` } });
  return { status: r.statusCode, body: r.body };
};

/** Exactly one 202; every loser a 400/409 Cinder fault. */
function oneWinner(results: Array<{ status: number; body: string }>, what: string): number {
  figures.runs++;
  const winners = results.filter((r) => r.status === 202);
  expect(winners.length, `${what}: ${results.map((r) => `${r.status} ${r.body.slice(0, 120)}`).join(' | ')}`).toBe(1);
  for (const r of results.filter((x) => x.status !== 202)) {
    expect([400, 409], what).toContain(r.status);
    expectFaultBody(r.status, r.body, what);
    figures.conflicts++;
  }
  return results.findIndex((r) => r.status === 202);
}

async function settle(kind: 'backups' | 'volumes', id: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const row = await w.env.t.db.selectFrom(kind).select(['status']).where('id', '=', id).executeTakeFirst();
    const status = row?.status ?? 'gone';
    if (!['creating', 'restoring', 'restoring-backup', 'deleting', 'backing-up'].includes(status)) return status;
    if (Date.now() > deadline) throw new Error(`${kind} ${id} stuck in ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('concurrency races resolve to one winner and a consistent state', () => {
  it.each(Array.from({ length: rounds(1, 10) }, (_, i) => i))(
    'two restores to one volume (run %i): one restores, one is refused',
    async () => {
      const target = await makeVolume(w.env, P1, { size: 1 });
      const results = await Promise.all([0, 1].map(() => post(`/backups/${w.backupId}/restore`, { restore: { volume_id: target } })));
      oneWinner(results, 'two restores');
      expect(await settle('volumes', target)).toBe('available');
      expect(await settle('backups', w.backupId)).toBe('available');
      const restored = await readFile(w.env.deps.volumes.volumePath(target));
      expect(restored.subarray(0, 256 * 1024).equals(Buffer.alloc(256 * 1024, 0x5a))).toBe(true);
    },
  );

  it.each(Array.from({ length: rounds(1, 10) }, (_, i) => i))(
    'restore against delete of one backup (run %i): one wins, the loser changes nothing',
    async () => {
      const backup = await backupVia(w.env, P1, w.volumeId);
      const target = await makeVolume(w.env, P1, { size: 1 });
      const order = [post(`/backups/${backup}/restore`, { restore: { volume_id: target } }), del(`/backups/${backup}`)];
      const winner = oneWinner(await Promise.all(order), 'restore vs delete');
      if (winner === 0) {
        expect(await settle('volumes', target)).toBe('available');
        expect(await settle('backups', backup)).toBe('available');
      } else {
        expect(await settle('backups', backup)).toBe('deleted');
        expect(await settle('volumes', target)).toBe('available');
      }
    },
  );

  it.each(Array.from({ length: rounds(1, 10) }, (_, i) => i))(
    'two incrementals of one volume at once (run %i): one is taken, one refused',
    async () => {
      await writeAt(w.env.deps.volumes.volumePath(w.volumeId), 4096 * (figures.runs + 1), Buffer.alloc(4096, figures.runs));
      const results = await Promise.all(
        [0, 1].map(() => post('/backups', { backup: { volume_id: w.volumeId, incremental: true, name: 'inc' } })),
      );
      const winner = oneWinner(results, 'two incrementals');
      expect(await settle('backups', results[winner]!.json.backup.id)).toBe('available');
      expect(await settle('volumes', w.volumeId)).toBe('available');
    },
  );

  it.each(Array.from({ length: rounds(1, 10) }, (_, i) => i))(
    'delete of a parent while its child is created (run %i): never an available child of a deleted parent',
    async () => {
      const vol = await makeVolume(w.env, P1, { size: 1 });
      await writeAt(w.env.deps.volumes.volumePath(vol), 0, Buffer.alloc(8192, 3));
      const parent = await backupVia(w.env, P1, vol);
      const [child, gone] = await Promise.all([
        post('/backups', { backup: { volume_id: vol, incremental: true, name: 'child' } }),
        del(`/backups/${parent}`),
      ]);
      figures.runs++;
      if (child.status === 202 && gone.status === 202) figures.bothAccepted++;
      for (const r of [child, gone])
        if (r.status !== 202) expect([400, 409]).toContain(r.status), expectFaultBody(r.status, r.body, 'parent/child');
      const parentStatus = await settle('backups', parent);
      if (child.status === 202) {
        const childStatus = await settle('backups', child.json.backup.id);
        if (childStatus === 'available') {
          expect(parentStatus, 'an available incremental must keep its parent').toBe('available');
          const row = await w.env.t.db
            .selectFrom('backups')
            .select(['parent_id'])
            .where('id', '=', child.json.backup.id)
            .executeTakeFirstOrThrow();
          expect(row.parent_id).toBe(parent);
        } else {
          expect(childStatus).toBe('error');
        }
      }
      expect(await settle('volumes', vol)).toBe('available');
    },
  );
});
