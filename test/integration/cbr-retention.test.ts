import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { triggersOf } from '../../src/db/cbr-schedule-repository.js';
import { createCheckpoint } from '../../src/domain/cbr/checkpoints/create-checkpoint.js';
import { applyVaultRetention, planVaultRetention } from '../../src/domain/cbr/retention/apply.js';
import { retentionRule } from '../../src/domain/cbr/retention/rules.js';
import { ManualClock } from '../../src/domain/cbr/schedule/clock.js';
import { P1, backupTestEnv, insertBackups, makeVolume, type BackupTestEnv } from './backups-fixtures.js';
import { drive, makePolicy, makeVault, schedulerDeps, scribble, settle, smallVolume, SMALL } from './cbr-scheduler-fixtures.js';

let env: BackupTestEnv;
beforeAll(async () => {
  env = await backupTestEnv({}, true);
});
afterAll(async () => {
  await env?.close();
});
afterEach(async () => {
  await env.t.db.updateTable('cbr_policies').set({ enabled: false }).execute();
});

const iso = (s: string) => new Date(s);
const ctx = { requestId: 'req-test', userId: `u${P1.slice(0, 7)}`, projectId: P1, roles: ['member'], isAdmin: false };

/** Live backups of a volume: id -> row. */
async function liveBackups(volumeId: string) {
  const rows = await env.t.db
    .selectFrom('backups')
    .select(['id', 'parent_id', 'status', 'cbr_auto_trigger', 'checkpoint_id'])
    .where('volume_id', '=', volumeId)
    .where('deleted', '=', false)
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Restores each backup into a fresh volume through the Cinder API and compares the bytes. */
async function expectRestores(expected: Map<string, Buffer>) {
  for (const [backupId, bytes] of expected) {
    const target = await makeVolume(env, P1);
    const r = await env.call('POST', `/backups/${backupId}/restore`, P1, { restore: { volume_id: target } });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    await settle(env.t.db);
    for (
      let i = 0;
      i < 200 &&
      (await env.t.db.selectFrom('volumes').select('status').where('id', '=', target).executeTakeFirstOrThrow()).status !== 'available';
      i++
    ) {
      await new Promise((res) => setTimeout(res, 50));
    }
    const got = await readFile(env.deps.volumes.volumePath(target));
    expect(got.subarray(0, SMALL).equals(bytes.subarray(0, SMALL)), `backup ${backupId} restores its bytes`).toBe(true);
    expect(got.equals(bytes)).toBe(true);
  }
}

/**
 * Drives a DAILY policy over `days` days, changing the volume before each run and remembering the bytes each
 * scheduled backup must restore. Returns trigger instant -> backup id, and backup id -> bytes.
 */
async function runDays(patterns: string[], def: Record<string, unknown>, instants: Date[], extra?: (t: Date) => Promise<void>) {
  const start = new Date(instants[0]!.getTime() - 3_600_000);
  const vol = await smallVolume(env, P1);
  const vault = await makeVault(env.t.db, P1, [vol]);
  const policy = await makePolicy(env.t.db, P1, patterns, def, start, [vault]);
  const clock = new ManualClock(start.getTime());
  const contents = new Map<string, Buffer>(); // trigger ISO -> bytes at that time
  await drive([schedulerDeps(env, clock)], clock, instants, {
    before: async (t) => {
      contents.set(t.toISOString(), await scribble(env, vol, (contents.size * 64 * 1024) % SMALL, 4096));
      await extra?.(t);
    },
  });
  const triggers = await triggersOf(env.t.db, policy, vault);
  const byTrigger = new Map<string, string>();
  const bytes = new Map<string, Buffer>();
  for (const t of triggers) {
    const b = await env.t.db.selectFrom('backups').select('id').where('checkpoint_id', '=', t.checkpoint_id!).executeTakeFirstOrThrow();
    byTrigger.set(new Date(t.trigger_at).toISOString(), b.id);
    bytes.set(b.id, contents.get(new Date(t.trigger_at).toISOString())!);
  }
  return { vol, vault, policy, clock, byTrigger, bytes };
}

const days = (from: string, n: number, time = '02:00') =>
  Array.from({ length: n }, (_, k) => iso(`${from}T${time}:00Z`).getTime() + k * 86_400_000).map((ms) => new Date(ms));

describe('CBR retention after scheduled runs (real backups, posix store)', () => {
  it('max_backups 3 over 8 daily runs: the 3 newest stay, pruned parents wait for their dependents, manual backups are never pruned; every kept backup restores byte-identically', async () => {
    const instants = days('2026-02-02', 8);
    let manual: { id: string; bytes: Buffer } | undefined;
    let volId = '';
    const r = await runDays(['FREQ=DAILY;BYHOUR=02;BYMINUTE=00'], { max_backups: 3 }, instants, async (t) => {
      if (t.toISOString() !== instants[3]!.toISOString()) return;
      // A manual checkpoint between the 3rd and 4th runs (incremental on the 3rd scheduled backup).
      const vault = await env.t.db
        .selectFrom('cbr_vault_resources')
        .select(['vault_id', 'volume_id'])
        .orderBy('seq', 'desc')
        .executeTakeFirstOrThrow();
      volId = vault.volume_id;
      const bytes = await readFile(env.deps.volumes.volumePath(vault.volume_id));
      const cp = await createCheckpoint({ db: env.t.db, config: env.config, store: env.deps.store }, ctx, {
        vaultId: vault.vault_id,
        autoTrigger: true,
      });
      await settle(env.t.db);
      const b = await env.t.db.selectFrom('backups').select('id').where('checkpoint_id', '=', cp.id).executeTakeFirstOrThrow();
      manual = { id: b.id, bytes };
    });
    expect(volId).toBe(r.vol);
    const live = await liveBackups(r.vol);
    const kept = instants.slice(-3).map((t) => r.byTrigger.get(t.toISOString())!);
    for (const id of kept) expect(live.get(id)?.status).toBe('available');
    expect(live.get(manual!.id)).toMatchObject({ status: 'available', cbr_auto_trigger: false });
    // Anything else still live is a pruned backup some live backup depends on.
    const parents = new Set([...live.values()].map((b) => b.parent_id));
    for (const [id, b] of live) {
      if (kept.includes(id) || id === manual!.id) continue;
      expect(b.cbr_auto_trigger).toBe(true);
      expect(parents.has(id), `pruned ${id} is still live only as a parent`).toBe(true);
    }
    // Storage stays bounded: at most max_backups + a chain being drained.
    expect(live.size).toBeLessThanOrEqual(8);
    expect(live.size).toBeLessThan(instants.length + 1);
    await expectRestores(new Map([...kept.map((id) => [id, r.bytes.get(id)!] as const), [manual!.id, manual!.bytes]]));
  }, 300_000);

  it('retention_duration_days 2 and day_backups 3 (UTC+08:00) with two runs a day', async () => {
    // 02:00Z = 10:00 and 14:00Z = 22:00 local (UTC+8): local days equal UTC days here.
    const instants = days('2026-02-10', 5, '02:00')
      .concat(days('2026-02-10', 5, '14:00'))
      .sort((a, b) => a.getTime() - b.getTime());
    const r = await runDays(
      ['FREQ=DAILY;BYHOUR=02,14;BYMINUTE=00'],
      { retention_duration_days: 2, day_backups: 3, timezone: 'UTC+08:00' },
      instants,
    );
    // At the last run (02-14 14:00Z): day keepers = newest of 02-14, 02-13, 02-12 (the 14:00 ones);
    // younger than 2 x 24 h: 02-12 14:00 (exactly 48 h: kept), 02-13 02:00, 02-13 14:00, 02-14 02:00, 02-14 14:00.
    const keptTimes = ['2026-02-12T14:00', '2026-02-13T02:00', '2026-02-13T14:00', '2026-02-14T02:00', '2026-02-14T14:00'];
    const kept = keptTimes.map((t) => r.byTrigger.get(`${t}:00.000Z`)!);
    const live = await liveBackups(r.vol);
    for (const id of kept) expect(live.get(id)?.status).toBe('available');
    // Anything else still live is a scheduled backup retention deferred (a parent when the run planned it).
    for (const [id, b] of live) if (!kept.includes(id)) expect(b.cbr_auto_trigger).toBe(true);
    await expectRestores(new Map(kept.map((id) => [id, r.bytes.get(id)!])));
  }, 300_000);

  it('week, month and year rules over two years of scheduled backups select exactly the GFS keepers (database path, no engine)', async () => {
    const vol = randomUUID();
    const vault = await makeVault(env.t.db, P1, []);
    const policy = randomUUID();
    const now = iso('2026-06-15T12:00:00Z'); // a Monday
    const list = Array.from({ length: 800 }, (_, k) => new Date(Date.UTC(2026, 5, 15 - k, 2)));
    const checkpoints = list.map(() => randomUUID());
    const ids = await insertBackups(
      env.t.db,
      list.map((at, k) => ({
        project_id: P1,
        volume_id: vol,
        vault_id: vault,
        checkpoint_id: checkpoints[k]!,
        cbr_auto_trigger: true,
        created_at: at,
        data_timestamp: at,
      })),
    );
    await env.t.db
      .insertInto('cbr_schedule_triggers')
      .values(
        list.map((at, k) => ({
          policy_id: policy,
          vault_id: vault,
          trigger_at: at,
          status: 'done',
          owner: 't',
          checkpoint_id: checkpoints[k]!,
        })),
      )
      .execute();
    const byDate = new Map(list.map((at, k) => [at.toISOString().slice(0, 10), ids[k]!]));
    const plan = await planVaultRetention(
      env.t.db,
      vault,
      retentionRule({ max_backups: 1, week_backups: 3, month_backups: 3, year_backups: 3, timezone: 'UTC+00:00' }),
      now,
    );
    const res = await applyVaultRetention(
      { db: env.t.db, config: env.config, store: env.deps.store },
      ctx,
      plan,
      pino({ level: 'silent' }),
    );
    const keptDates = ['2024-12-31', '2025-12-31', '2026-04-30', '2026-05-31', '2026-06-07', '2026-06-13', '2026-06-14', '2026-06-15'];
    expect(res.deleted).toHaveLength(800 - keptDates.length);
    expect(new Set(res.deleted)).toEqual(new Set(ids.filter((id) => !keptDates.some((d) => byDate.get(d) === id))));
    expect(res.deferred).toEqual([]);
    await settle(env.t.db);
    const left = await env.t.db.selectFrom('backups').select('id').where('volume_id', '=', vol).where('deleted', '=', false).execute();
    expect(new Set(left.map((b) => b.id))).toEqual(new Set(keptDates.map((d) => byDate.get(d)!)));
  }, 120_000);
});
