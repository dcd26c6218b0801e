import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { triggersOf } from '../../src/db/cbr-schedule-repository.js';
import { showPolicy } from '../../src/domain/cbr/policies/policies.js';
import { ManualClock } from '../../src/domain/cbr/schedule/clock.js';
import { schedulerTick } from '../../src/domain/cbr/schedule/scheduler.js';
import { sdkHeaders, sdkSign } from '../helpers/cbr-sdk.js';
import { type CbrTestEnv, KEY1, P1, P2, cbrTestEnv } from './cbr-fixtures.js';
import { makePolicy, makeVault, schedulerDeps, settle, smallVolume } from './cbr-scheduler-fixtures.js';

/**
 * What the console needs from the CBR API: each policy's next run times (an extension, computed as
 * the scheduler computes them), and the CBR API under /cbr on the Cinder listener (the console's
 * origin) with the CBR listener's own authentication, errors and tenant isolation.
 */

let env: CbrTestEnv;
beforeAll(async () => {
  env = await cbrTestEnv({}, true);
});
afterAll(async () => env?.close());

const ctx = (projectId: string) => ({ requestId: 'req-test', userId: 'u', projectId, roles: ['member'], isAdmin: false });

describe('next_run_times on a policy', () => {
  it('lists the next five instants, and the scheduler fires exactly those (manual clock, ticks every 20 min)', async () => {
    const vol = await smallVolume(env, P1);
    const vault = await makeVault(env.t.db, P1, [vol]);
    const created = new Date('2026-03-02T10:00:00Z'); // a Monday
    const patterns = ['FREQ=DAILY;INTERVAL=2;BYHOUR=03,15;BYMINUTE=20', 'FREQ=WEEKLY;BYDAY=TU;BYHOUR=09;BYMINUTE=00'];
    const policyId = await makePolicy(env.t.db, P1, patterns, { max_backups: -1 }, created, [vault]);
    const start = new Date('2026-03-02T11:00:00Z');
    const shown = await showPolicy(env.t.db, ctx(P1), policyId, start);
    // By hand: every second UTC day from the creation date at 03:20 and 15:20, and Tuesdays at 09:00.
    expect(shown.trigger.properties.next_run_times).toEqual([
      '2026-03-02 15:20:00',
      '2026-03-03 09:00:00',
      '2026-03-04 03:20:00',
      '2026-03-04 15:20:00',
      '2026-03-06 03:20:00',
    ]);
    const clock = new ManualClock(start.getTime());
    const deps = { ...schedulerDeps(env, clock), windowMs: 45 * 60_000 };
    const end = new Date('2026-03-06T04:00:00Z'); // a tick after the last instant applies its retention (fired -> done)
    while (clock.now() <= end) {
      await schedulerTick(deps);
      await settle(env.t.db);
      clock.advance(20 * 60_000);
    }
    const fired = await triggersOf(env.t.db, policyId, vault);
    expect(fired.map((t) => t.trigger_at.toISOString().slice(0, 19).replace('T', ' '))).toEqual(shown.trigger.properties.next_run_times);
    expect(fired.map((t) => t.status)).toEqual(fired.map(() => 'done'));
    await env.t.db.updateTable('cbr_policies').set({ enabled: false }).where('id', '=', policyId).execute();
  }, 120_000);

  it('is in the API answer (show and list), and empty for a disabled policy', async () => {
    const body = {
      policy: {
        name: 'nightly',
        operation_type: 'backup',
        operation_definition: { max_backups: 3 },
        trigger: { properties: { pattern: ['FREQ=DAILY;INTERVAL=1;BYHOUR=02;BYMINUTE=00'] } },
      },
    };
    const created = await env.api('POST', '/policies', { body });
    expect(created.status).toBe(200);
    const id = created.json.policy.id as string;
    const times = created.json.policy.trigger.properties.next_run_times as string[];
    expect(times).toHaveLength(5);
    const first = Date.parse(`${times[0]!.replace(' ', 'T')}Z`);
    expect(first).toBeGreaterThan(Date.now() - 1000);
    expect(first - Date.now()).toBeLessThanOrEqual(86_400_000);
    for (const t of times) expect(t).toMatch(/^\d{4}-\d{2}-\d{2} 02:00:00$/);
    const listed = (await env.api('GET', '/policies')).json.policies.find((p: { id: string }) => p.id === id);
    expect(listed.trigger.properties.next_run_times).toEqual(times);
    await env.api('PUT', `/policies/${id}`, { body: { policy: { enabled: false } } });
    expect((await env.api('GET', `/policies/${id}`)).json.policy.trigger.properties.next_run_times).toEqual([]);
  });
});

describe('the CBR API under /cbr on the Cinder listener', () => {
  const onCinder = async (path: string, headers: Record<string, string>, method = 'GET', payload?: unknown) => {
    const res = await env.app.inject({
      method: method as 'GET',
      url: `/cbr${path}`,
      headers,
      ...(payload ? { payload: payload as object } : {}),
    });
    return { status: res.statusCode, json: res.body ? JSON.parse(res.body) : null };
  };
  const token = (project: string) => ({ 'x-auth-token': `ops:${project}` });

  it('answers as the CBR listener does, with the same X-Auth-Token', async () => {
    const made = await onCinder(`/v3/${P1}/vaults`, token(P1), 'POST', {
      vault: {
        name: 'console-vault',
        resources: [],
        billing: { consistent_level: 'crash_consistent', object_type: 'disk', protect_type: 'backup', size: 40 },
      },
    });
    expect(made.status).toBe(200);
    const id = made.json.vault.id as string;
    const there = await env.api('GET', `/vaults/${id}`);
    const here = await onCinder(`/v3/${P1}/vaults/${id}`, token(P1));
    expect(here).toEqual({ status: 200, json: there.json });
  });

  it('keeps tenants apart: another project sees none of the vaults and gets 404 for one by id', async () => {
    const mine = await onCinder(`/v3/${P1}/vaults`, token(P1));
    expect(mine.json.count).toBeGreaterThan(0);
    const id = mine.json.vaults[0].id as string;
    expect((await onCinder(`/v3/${P2}/vaults`, token(P2))).json).toMatchObject({ vaults: [], count: 0 });
    const other = await onCinder(`/v3/${P2}/vaults/${id}`, token(P2));
    expect(other.status).toBe(404);
    expect(other.json.error_code).toBe('BackupService.6105');
    expect((await onCinder(`/v3/${P2}/operation-logs`, token(P2))).json.count).toBe(0);
  });

  it("refuses what the CBR listener refuses: no credential (401), another project's path (403), an unknown route (APIGW.0101)", async () => {
    const none = await onCinder(`/v3/${P1}/vaults`, {});
    expect(none.status).toBe(401);
    expect(none.json.error_code).toBe('APIGW.0301');
    const cross = await onCinder(`/v3/${P1}/vaults`, token(P2));
    expect(cross.status).toBe(403);
    expect(cross.json.error_code).toBe('APIGW.0302');
    const unknown = await onCinder(`/v3/${P1}/nothing-here`, token(P1));
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe('APIGW.0101');
  });

  it('accepts an SDK-HMAC-SHA256 signature over the /cbr path, and refuses it for another project', async () => {
    const sdkDate = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const sign = (path: string) =>
      sdkSign([
        {
          method: 'GET',
          host: 'localhost:80',
          path,
          headers: { ...sdkHeaders(KEY1.project), 'X-Sdk-Date': sdkDate },
          ak: KEY1.ak,
          sk: KEY1.sk,
        },
      ])[0]!;
    const ok = sign(`/cbr/v3/${P1}/vaults`);
    const res = await env.app.inject({ method: 'GET', url: ok.uri, headers: { ...ok.headers, host: 'localhost:80' } });
    expect(res.statusCode).toBe(200);
    const cross = sign(`/cbr/v3/${P2}/vaults`);
    const refused = await env.app.inject({ method: 'GET', url: cross.uri, headers: { ...cross.headers, host: 'localhost:80' } });
    expect(refused.statusCode).toBe(403);
  });

  it('is not there when CBR is off (CBR_PORT=0): the Cinder listener answers its own 404', async () => {
    const off = await buildApp({ ...env.deps, config: { ...env.config, CBR_PORT: 0 }, logger: false });
    try {
      const res = await off.inject({ method: 'GET', url: `/cbr/v3/${P1}/vaults`, headers: token(P1) });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ itemNotFound: { code: 404, message: 'The resource could not be found.' } });
    } finally {
      await off.close();
    }
  });

  it("is not in the Cinder listener's OpenAPI document", async () => {
    const doc = (await env.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/cbr'))).toEqual([]);
  });
});
