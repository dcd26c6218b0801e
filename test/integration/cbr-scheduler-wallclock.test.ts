import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggersOf } from '../../src/db/cbr-schedule-repository.js';
import { createDb } from '../../src/db/connection.js';
import { systemClock } from '../../src/domain/cbr/schedule/clock.js';
import { type CbrScheduler, startCbrScheduler } from '../../src/domain/cbr/schedule/loop.js';
import { P1, backupTestEnv, type BackupTestEnv } from './backups-fixtures.js';
import { makePolicy, makeVault, schedulerDeps, settle, smallVolume } from './cbr-scheduler-fixtures.js';

/**
 * One real trigger against the wall clock (its own file, so it waits beside the other files): a
 * policy whose UTC BYHOUR/BYMINUTE is the next whole minute at least 30 s ahead, and two production
 * scheduler loops (startCbrScheduler, the system clock, each with its own pool and owner, ticking every
 * 5 s) on one database. Exactly one auto_trigger checkpoint appears, within 60 s of the time, and no
 * second one in the ticks after it. Bounded: at most ~90 s to the minute, then at most ~75 s.
 */

let env: BackupTestEnv;
beforeAll(async () => {
  env = await backupTestEnv({}, true);
});
afterAll(async () => {
  await env?.close();
});

const pad = (n: number) => String(n).padStart(2, '0');

describe('CBR scheduler on the wall clock', () => {
  it('a policy due at the next whole minute fires exactly one auto_trigger checkpoint within 60 s of it', async () => {
    const vaultId = await makeVault(env.t.db, P1, [await smallVolume(env, P1)]);
    const now = Date.now();
    const at = new Date(Math.ceil((now + 30_000) / 60_000) * 60_000);
    const pattern = `FREQ=DAILY;INTERVAL=1;BYHOUR=${pad(at.getUTCHours())};BYMINUTE=${pad(at.getUTCMinutes())}`;
    const policyId = await makePolicy(env.t.db, P1, [pattern], {}, new Date(now), [vaultId]);
    const pools = [createDb({ url: env.t.url, poolSize: 2 }), createDb({ url: env.t.url, poolSize: 2 })];
    const loops: CbrScheduler[] = pools.map((db, i) =>
      startCbrScheduler({ ...schedulerDeps(env, systemClock, db, `wall-${i}:${process.pid}`), tickMs: 5_000 }),
    );
    const checkpoints = () =>
      env.t.db.selectFrom('cbr_checkpoints').selectAll().where('policy_id', '=', policyId).orderBy('created_at').execute();
    try {
      let first: Awaited<ReturnType<typeof checkpoints>>[number] | undefined;
      while (!first && Date.now() < at.getTime() + 60_000) {
        [first] = await checkpoints();
        if (!first) await new Promise((r) => setTimeout(r, 250));
      }
      expect(first, `no checkpoint within 60 s of ${at.toISOString()}`).toBeDefined();
      const late = first!.created_at.getTime() - at.getTime();
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThanOrEqual(60_000);
      expect(first).toMatchObject({ vault_id: vaultId, auto_trigger: true, scheduled: true });
      // Three more ticks of each loop: nothing fires twice.
      await new Promise((r) => setTimeout(r, 15_000));
    } finally {
      for (const loop of loops) await loop.stop();
      for (const db of pools) await db.destroy();
    }
    const all = await checkpoints();
    expect(all).toHaveLength(1);
    const triggers = await triggersOf(env.t.db, policyId);
    expect(triggers.map((t) => [new Date(t.trigger_at).toISOString(), t.checkpoint_id])).toEqual([[at.toISOString(), all[0]!.id]]);
    await settle(env.t.db);
  }, 200_000);
});
