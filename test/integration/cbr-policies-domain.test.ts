import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindPolicy } from '../../src/db/cbr-policies-repository.js';
import { insertVault } from '../../src/db/cbr-vaults-repository.js';
import { CbrError } from '../../src/domain/cbr/errors.js';
import { createPolicy, deletePolicyOf, listPoliciesOf, showPolicy, updatePolicyOf } from '../../src/domain/cbr/policies/policies.js';
import type { RequestContext } from '../../src/domain/common/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/** Policies P1-P5: strict RRULE parsing, verbatim echo, retention fields, tenant isolation. */

const P1 = '11111111111111111111111111111111';
const ctx: RequestContext = { requestId: 'req-p', userId: 'u1', projectId: P1, roles: ['member'], isAdmin: false };
const other: RequestContext = { ...ctx, projectId: '22222222222222222222222222222222' };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CbrError) return `${err.kind}:${err.code}:${err.message}`;
    throw err;
  }
  return 'no error';
}

describe('CBR policies', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t?.drop());

  const retention = {
    max_backups: 5,
    retention_duration_days: -1,
    day_backups: 3,
    week_backups: 2,
    month_backups: 1,
    year_backups: 0,
    timezone: 'UTC+08:00',
    full_backup_interval: -1,
  };

  it('creates with the patterns echoed byte for byte, start_time = creation, retention as sent; shows, lists, updates, deletes', async () => {
    const patterns = ['FREQ=DAILY;INTERVAL=1;BYHOUR=02;BYMINUTE=00', 'FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=14;BYMINUTE=30'];
    const created = await createPolicy(t.db, ctx, { name: 'nightly', patterns, operationDefinition: retention });
    expect(created).toMatchObject({
      name: 'nightly',
      enabled: true,
      operation_type: 'backup',
      associated_vaults: [],
      operation_definition: retention,
    });
    expect(created.trigger.properties.pattern).toEqual(patterns);
    expect(created.trigger.properties.start_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(created.trigger).toMatchObject({ name: 'default', type: 'time' });
    expect(await showPolicy(t.db, ctx, created.id)).toEqual(created);

    const vaultId = randomUUID();
    await insertVault(t.db, {
      id: vaultId,
      project_id: P1,
      user_id: 'u1',
      name: 'v',
      description: null,
      size_gb: 10,
      backup_name_prefix: null,
      extra: '{}',
    });
    const second = await createPolicy(t.db, ctx, {
      name: 'second',
      enabled: false,
      patterns: ['FREQ=DAILY;BYHOUR=3;BYMINUTE=5'],
      operationDefinition: { max_backups: -1 },
    });
    await bindPolicy(t.db, vaultId, second.id);
    expect((await listPoliciesOf(t.db, ctx, {})).map((p) => p.id)).toEqual([second.id, created.id]);
    const bound = await listPoliciesOf(t.db, ctx, { vaultId });
    expect(bound.map((p) => [p.id, p.associated_vaults])).toEqual([[second.id, [{ vault_id: vaultId }]]]);
    expect(await listPoliciesOf(t.db, ctx, { vaultId: randomUUID() })).toEqual([]);
    expect(await listPoliciesOf(t.db, ctx, { operationType: 'replication' })).toEqual([]);

    const updated = await updatePolicyOf(t.db, ctx, created.id, {
      name: 'renamed',
      enabled: false,
      patterns: ['FREQ=DAILY;INTERVAL=3;BYHOUR=06;BYMINUTE=00'],
    });
    expect(updated).toMatchObject({ name: 'renamed', enabled: false, operation_definition: retention });
    expect(updated.trigger.properties.pattern).toEqual(['FREQ=DAILY;INTERVAL=3;BYHOUR=06;BYMINUTE=00']);
    expect(updated.trigger.properties.start_time).toBe(created.trigger.properties.start_time);
    const redefined = await updatePolicyOf(t.db, ctx, created.id, { operationDefinition: { max_backups: 9 } });
    expect(redefined.operation_definition).toEqual({ max_backups: 9 });

    await deletePolicyOf(t.db, ctx, second.id);
    expect(await code(showPolicy(t.db, ctx, second.id))).toMatch(/^not_found:BackupService.6200:/);
    expect(await listPoliciesOf(t.db, ctx, { vaultId })).toEqual([]);
  });

  it('refuses bad patterns and retention with BackupService.9900 naming the field', async () => {
    const bad = async (patterns: string[], def: Record<string, unknown> = {}) =>
      code(createPolicy(t.db, ctx, { name: 'x', patterns, operationDefinition: def }));
    for (const p of [
      'FREQ=HOURLY;BYHOUR=1;BYMINUTE=0',
      'FREQ=DAILY;BYHOUR=24;BYMINUTE=0',
      'FREQ=DAILY;BYHOUR=1',
      'freq=DAILY;BYHOUR=1;BYMINUTE=0',
      'FREQ=WEEKLY;BYHOUR=1;BYMINUTE=0',
      'FREQ=DAILY;INTERVAL=31;BYHOUR=1;BYMINUTE=0',
      'FREQ=DAILY;BYHOUR=1;BYMINUTE=0;COUNT=3',
    ]) {
      expect(await bad([p])).toMatch(/^invalid:BackupService.9900:Invalid parameter trigger.properties.pattern: /);
    }
    expect(await bad([])).toMatch(/^invalid:BackupService.9900:/);
    expect(await bad(['FREQ=DAILY;BYHOUR=1;BYMINUTE=0', 'FREQ=DAILY;BYHOUR=1;BYMINUTE=30'])).toMatch(/one hour apart/);
    expect(await bad(['FREQ=DAILY;BYHOUR=1;BYMINUTE=0'], { day_backups: 2 })).toMatch(/operation_definition.timezone/);
    expect(await bad(['FREQ=DAILY;BYHOUR=1;BYMINUTE=0'], { week_backups: 1, timezone: 'CET' })).toMatch(/operation_definition.timezone/);
  });

  it('isolates tenants', async () => {
    const p = await createPolicy(t.db, ctx, { name: 'mine', patterns: ['FREQ=DAILY;BYHOUR=1;BYMINUTE=0'], operationDefinition: {} });
    expect(await code(showPolicy(t.db, other, p.id))).toMatch(/^not_found:/);
    expect(await code(updatePolicyOf(t.db, other, p.id, { name: 'x' }))).toMatch(/^not_found:/);
    expect(await code(deletePolicyOf(t.db, other, p.id))).toMatch(/^not_found:/);
    expect(await listPoliciesOf(t.db, other, {})).toEqual([]);
    expect((await showPolicy(t.db, ctx, p.id)).name).toBe('mine');
  });
});
