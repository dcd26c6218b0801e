import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P1 } from '../integration/backups-fixtures.js';
import { backupVia, startApiWorld, type ApiWorld } from './api-world.js';

/**
 * Damaged backups through the API and the job path (the engine's own tests cover the engine):
 * os-verify reports each kind of damage in the progress extension without touching the backup's
 * status, and a restore from it never leaves the target volume `available` with wrong data.
 */
let w: ApiWorld;
beforeAll(async () => {
  w = await startApiWorld();
}, 120_000);
afterAll(async () => w?.env.close());

async function prefixOf(id: string): Promise<{ container: string; prefix: string }> {
  const row = await w.env.t.db
    .selectFrom('backups')
    .select(['container', 'service_metadata'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return { container: row.container!, prefix: row.service_metadata! };
}

async function verify(id: string): Promise<{ verify_result: string; fail_reason: string | null; status: string }> {
  const before = await w.env.t.db.selectFrom('backups').select('verified_at').where('id', '=', id).executeTakeFirstOrThrow();
  const r = await w.env.call('POST', `/backups/${id}/action`, P1, { 'os-verify': {} });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    // Done when the row's verified_at moved on; the answer is then read through the extension.
    const row = await w.env.t.db.selectFrom('backups').select('verified_at').where('id', '=', id).executeTakeFirstOrThrow();
    if (row.verified_at && (!before.verified_at || row.verified_at > before.verified_at)) {
      const p = await w.env.call('GET', `/backups/${id}/progress`, P1);
      expect(p.status).toBe(200);
      return p.json.progress;
    }
    if (Date.now() > deadline) throw new Error(`verify of ${id} did not finish`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function restoreOutcome(id: string): Promise<{ volume: string; backup: string }> {
  const r = await w.env.call('POST', `/backups/${id}/restore`, P1, { restore: { name: 'from-damaged' } });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  const vol = r.json.restore.volume_id as string;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await w.env.t.db.selectFrom('volumes').select('status').where('id', '=', vol).executeTakeFirstOrThrow();
    const b = await w.env.t.db.selectFrom('backups').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    if (!['creating', 'restoring-backup'].includes(v.status) && b.status !== 'restoring') return { volume: v.status, backup: b.status };
    if (Date.now() > deadline) throw new Error(`restore from ${id} did not settle: ${v.status}/${b.status}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

type Damage = (loc: { container: string; prefix: string }) => Promise<void>;
const store = () => w.env.deps.store;
const damages: Array<[string, Damage, RegExp]> = [
  [
    'a corrupted object',
    async ({ container, prefix }) => {
      const key = `${prefix}-00001`;
      const body = await store().get(container, key);
      body[10] = body[10]! ^ 0xff;
      await store().put(container, key, body);
    },
    /-00001/,
  ],
  [
    'a truncated object',
    async ({ container, prefix }) => {
      const key = `${prefix}-00001`;
      const body = await store().get(container, key);
      await store().put(container, key, body.subarray(0, body.length - 5));
    },
    /-00001/,
  ],
  ['a missing object', async ({ container, prefix }) => store().deleteMany(container, [`${prefix}-00001`]), /-00001 is missing/],
  [
    'an extra object',
    async ({ container, prefix }) => store().put(container, `${prefix}-00099`, Buffer.from('intruder')),
    /-00099|unexpected|extra/i,
  ],
];

describe('damaged backups through the API', () => {
  it('an intact backup verifies ok with a timestamp and no fail_reason', async () => {
    const p = await verify(w.backupId);
    expect(p.verify_result).toBe('ok');
    expect(p.fail_reason).toBeNull();
    expect(p.status).toBe('available');
  });

  it.each(damages)(
    '%s: os-verify reports a mismatch naming the object; a restore never yields an available volume',
    async (_name, damage, names) => {
      const id = await backupVia(w.env, P1, w.volumeId);
      await damage(await prefixOf(id));
      const p = await verify(id);
      expect(p.verify_result).toBe('mismatch');
      expect(p.fail_reason).toMatch(names);
      expect(p.status).toBe('available');
      const out = await restoreOutcome(id);
      expect(out.volume).not.toBe('available');
      expect(['error', 'error_restoring']).toContain(out.volume);
      expect(out.backup).toBe('available');
    },
  );
});
