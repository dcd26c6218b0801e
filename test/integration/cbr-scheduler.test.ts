import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/connection.js';
import { triggersOf } from '../../src/db/cbr-schedule-repository.js';
import { ManualClock } from '../../src/domain/cbr/schedule/clock.js';
import { schedulerTick } from '../../src/domain/cbr/schedule/scheduler.js';
import { P1, backupTestEnv, type BackupTestEnv } from './backups-fixtures.js';
import { drive, makePolicy, makeVault, schedulerDeps, settle, smallVolume } from './cbr-scheduler-fixtures.js';

let env: BackupTestEnv;
beforeAll(async () => {
  env = await backupTestEnv({}, true);
});
afterAll(async () => {
  await env?.close();
});
// Each test's policies stop when it ends (they share the database).
afterEach(async () => {
  await env.t.db.updateTable('cbr_policies').set({ enabled: false }).execute();
});

const iso = (s: string) => new Date(s);
const monday = iso('2026-03-02T00:00:00Z');

async function checkpointsOf(policyId: string) {
  return env.t.db.selectFrom('cbr_checkpoints').selectAll().where('policy_id', '=', policyId).orderBy('created_at').execute();
}

describe('CBR scheduler on a fake clock', () => {
  it('a week of DAILY and WEEKLY patterns fires exactly the expected checkpoints, each within 60 s of its time', async () => {
    const vA = await makeVault(env.t.db, P1, [await smallVolume(env, P1), await smallVolume(env, P1)]);
    const vB = await makeVault(env.t.db, P1, [await smallVolume(env, P1)]);
    const vC = await makeVault(env.t.db, P1, [await smallVolume(env, P1)]); // a vault has at most one backup policy
    const daily = await makePolicy(env.t.db, P1, ['FREQ=DAILY;INTERVAL=1;BYHOUR=02;BYMINUTE=00'], { max_backups: -1 }, monday, [vA]);
    const every3 = await makePolicy(env.t.db, P1, ['FREQ=DAILY;INTERVAL=3;BYHOUR=23;BYMINUTE=30'], {}, iso('2026-03-02T10:00:00Z'), [vC]);
    const weekly = await makePolicy(
      env.t.db,
      P1,
      ['FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=10;BYMINUTE=30', 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=0;BYMINUTE=5'],
      {},
      monday,
      [vB],
    );
    const expected = new Map<string, string[]>([
      [daily, ['02', '03', '04', '05', '06', '07', '08'].map((d) => `2026-03-${d}T02:00:00.000Z`)],
      [every3, ['02', '05', '08'].map((d) => `2026-03-${d}T23:30:00.000Z`)],
      [weekly, ['2026-03-02T10:30:00.000Z', '2026-03-04T10:30:00.000Z', '2026-03-06T10:30:00.000Z', '2026-03-08T00:05:00.000Z']],
    ]);
    const clock = new ManualClock(monday.getTime());
    const upcoming = [...new Set([...expected.values()].flat())].filter((t) => t < '2026-03-09').map(iso);
    const { fired, reports } = await drive([schedulerDeps(env, clock)], clock, upcoming);

    for (const [policyId, times] of expected) {
      const got = fired.filter((f) => f.policyId === policyId);
      expect(got.map((f) => f.triggerAt)).toEqual(times.filter((t) => t < '2026-03-09'));
      for (const f of got) {
        const late = Date.parse(f.firedAt) - Date.parse(f.triggerAt);
        expect(late).toBeGreaterThanOrEqual(0);
        expect(late).toBeLessThanOrEqual(60_000);
      }
      // One checkpoint per trigger, scheduled, auto_trigger, each with one backup per volume.
      const cps = await checkpointsOf(policyId);
      expect(cps).toHaveLength(got.length);
      for (const cp of cps) expect(cp).toMatchObject({ scheduled: true, auto_trigger: true });
      const rows = await triggersOf(env.t.db, policyId);
      expect(rows.map((r) => r.status)).toEqual(got.map(() => 'done'));
    }
    expect(reports.flatMap((r) => r.missed)).toEqual([]);
    expect(reports.flatMap((r) => r.failed)).toEqual([]);
    const backups = await env.t.db
      .selectFrom('backups')
      .select(['vault_id', 'status', 'cbr_auto_trigger', 'fail_reason'])
      .where('vault_id', 'in', [vA, vB, vC])
      .execute();
    expect(backups.filter((b) => b.vault_id === vA)).toHaveLength(2 * 7);
    expect(backups.filter((b) => b.vault_id === vC)).toHaveLength(3);
    expect(backups.filter((b) => b.vault_id === vB)).toHaveLength(4);
    expect(backups.filter((b) => b.status !== 'available' || !b.cbr_auto_trigger)).toEqual([]);
  }, 240_000);

  it('a trigger missed while no worker ran is recorded and logged as missed, not replayed; a disabled policy does not fire', async () => {
    const start = iso('2026-04-06T00:00:00Z');
    const v = await makeVault(env.t.db, P1, [await smallVolume(env, P1)]);
    const p = await makePolicy(env.t.db, P1, ['FREQ=DAILY;BYHOUR=06,18;BYMINUTE=00'], {}, start, [v]);
    const clock = new ManualClock(start.getTime());
    const deps = schedulerDeps(env, clock);
    await drive([deps], clock, [iso('2026-04-06T06:00:00Z')]);
    // No worker from 06:02 on day 1 to 17:59:30 on day 3: four instants pass unseen.
    clock.set(iso('2026-04-08T17:59:30Z'));
    const r = await schedulerTick(deps);
    expect(r.fired).toEqual([]);
    expect(r.missed.filter((k) => k.policyId === p).map((k) => k.triggerAt.toISOString())).toEqual([
      '2026-04-06T18:00:00.000Z',
      '2026-04-07T06:00:00.000Z',
      '2026-04-07T18:00:00.000Z',
      '2026-04-08T06:00:00.000Z',
    ]);
    clock.set(iso('2026-04-08T18:00:20Z'));
    const r2 = await schedulerTick(deps);
    expect(r2.fired.map((k) => k.triggerAt.toISOString())).toEqual(['2026-04-08T18:00:00.000Z']);
    expect(r2.missed).toEqual([]);
    await settle(env.t.db);
    expect(await checkpointsOf(p)).toHaveLength(2);
    expect((await triggersOf(env.t.db, p)).map((t) => t.status)).toEqual(['done', 'missed', 'missed', 'missed', 'missed', 'fired']);

    await env.t.db.updateTable('cbr_policies').set({ enabled: false }).where('id', '=', p).execute();
    clock.set(iso('2026-04-09T06:00:30Z'));
    expect((await schedulerTick(deps)).fired).toEqual([]);
  }, 120_000);

  it('two scheduler instances (separate pools, separate owners) on one database fire each trigger exactly once', async () => {
    const start = iso('2026-05-04T00:00:00Z');
    const vaults = [];
    for (let i = 0; i < 2; i++) vaults.push(await makeVault(env.t.db, P1, [await smallVolume(env, P1)]));
    const p = await makePolicy(env.t.db, P1, ['FREQ=DAILY;BYHOUR=0,6,12,18;BYMINUTE=1'], {}, start, vaults);
    const clock = new ManualClock(start.getTime());
    const dbA = createDb({ url: env.t.url, poolSize: 4 });
    const dbB = createDb({ url: env.t.url, poolSize: 4 });
    try {
      const a = schedulerDeps(env, clock, dbA, 'host-a:1');
      const b = schedulerDeps(env, clock, dbB, 'host-b:2');
      const upcoming = ['00', '06', '12'].map((h) => iso(`2026-05-04T${h}:01:00Z`));
      const { fired } = await drive([a, b, a, b], clock, upcoming, { stepMs: 20_000 });
      expect(fired).toHaveLength(upcoming.length * vaults.length);
      const keys = fired.map((f) => `${f.vaultId}@${f.triggerAt}`);
      expect(new Set(keys).size).toBe(keys.length);
      const cps = await checkpointsOf(p);
      expect(cps).toHaveLength(upcoming.length * vaults.length);
      const rows = await triggersOf(env.t.db, p);
      expect(rows).toHaveLength(upcoming.length * vaults.length);
      expect(new Set(rows.map((r) => r.checkpoint_id)).size).toBe(rows.length);
      // Both processes won some instants (the race is real, not one instance doing all the work).
      expect(new Set(rows.map((r) => r.owner))).toEqual(new Set(['host-a:1', 'host-b:2']));
    } finally {
      await dbA.destroy();
      await dbB.destroy();
    }
  }, 180_000);
});
