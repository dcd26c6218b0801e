import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkCall } from '../helpers/cbr-sdk.js';
import { type CbrTestEnv, KEY1, KEY2, P1, P2, cbrTestEnv, makeVolume } from './cbr-fixtures.js';

/**
 * The CBR listener as the unmodified Huawei Cloud SDK sees it (CbrClient over real HTTP,
 * BasicCredentials signing), and its error and header conventions.
 */

let env: CbrTestEnv;
let endpoint: string;
const vols: Record<string, string[]> = { [P1]: [], [P2]: [] };

beforeAll(async () => {
  env = await cbrTestEnv();
  await env.cbr.listen({ host: '127.0.0.1', port: 0 });
  const addr = env.cbr.server.address();
  endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  vols[P1]!.push(await makeVolume(env, P1, { name: 'p1-a' }), await makeVolume(env, P1, { name: 'p1-b', status: 'error' }));
  vols[P2]!.push(await makeVolume(env, P2, { name: 'p2-a' }));
});
afterAll(async () => env?.close());

describe('the Huawei Cloud SDK against the CBR listener', () => {
  it("CbrClient with BasicCredentials lists its own project's protectable volumes, nothing of another project", async () => {
    const r1 = await sdkCall(endpoint, KEY1, 'list_protectable', { __model__: 'ListProtectableRequest', protectable_type: 'disk' });
    expect(r1.status).toBe(200);
    const ids1 = JSON.parse(r1.raw!).instances.map((i: { id: string }) => i.id);
    expect(ids1.sort()).toEqual([...vols[P1]!].sort());
    const r2 = await sdkCall(endpoint, KEY2, 'list_protectable', {
      __model__: 'ListProtectableRequest',
      protectable_type: 'disk',
      limit: 10,
      offset: 0,
    });
    expect(JSON.parse(r2.raw!).instances.map((i: { id: string }) => i.id)).toEqual(vols[P2]);
  });

  it('CbrClient creates, lists, shows and deletes a vault (billing with charging_mode and cloud_type), a second key sees nothing of it', async () => {
    const created = await sdkCall(endpoint, KEY1, 'create_vault', {
      __model__: 'CreateVaultRequest',
      body: {
        __model__: 'VaultCreateReq',
        vault: {
          __model__: 'VaultCreate',
          name: 'sdk-vault',
          resources: [{ __model__: 'ResourceCreate', id: vols[P1]![0], type: 'OS::Cinder::Volume' }],
          billing: {
            __model__: 'BillingCreate',
            object_type: 'disk',
            protect_type: 'backup',
            consistent_level: 'crash_consistent',
            size: 40,
            charging_mode: 'post_paid',
            cloud_type: 'public',
          },
        },
      },
    });
    expect(created.status).toBe(200);
    const vault = JSON.parse(created.raw!).vault;
    expect(created.raw).toContain('"size":1,"backup_count":0,"backup_size":0');
    const listed = await sdkCall(endpoint, KEY1, 'list_vault', { __model__: 'ListVaultRequest', limit: 10, offset: 0 });
    expect(JSON.parse(listed.raw!).vaults.map((v: { id: string }) => v.id)).toContain(vault.id);
    const other = await sdkCall(endpoint, KEY2, 'show_vault', { __model__: 'ShowVaultRequest', vault_id: vault.id });
    expect(other).toMatchObject({ status: 404, error_code: 'BackupService.6105' });
    expect(JSON.parse((await sdkCall(endpoint, KEY2, 'list_vault', { __model__: 'ListVaultRequest' })).raw!).vaults).toEqual([]);
    const deleted = await sdkCall(endpoint, KEY1, 'delete_vault', { __model__: 'DeleteVaultRequest', vault_id: vault.id });
    expect(deleted.status).toBe(204);
    expect(await sdkCall(endpoint, KEY1, 'show_vault', { __model__: 'ShowVaultRequest', vault_id: vault.id })).toMatchObject({
      status: 404,
      error_code: 'BackupService.6105',
    });
  });

  it('a wrong secret key is refused: the SDK raises 401 APIGW.0301 with the request id', async () => {
    const r = await sdkCall(endpoint, { ...KEY1, sk: 'wrong-secret' }, 'list_protectable', {
      __model__: 'ListProtectableRequest',
      protectable_type: 'disk',
    });
    expect(r).toMatchObject({ status: 401, error_code: 'APIGW.0301' });
    expect(r.request_id).toMatch(/^req-/);
  });
});

describe('protectables (R1)', () => {
  it('shows each volume with JSON types the strict clients decode (size an integer) and whether it can be backed up', async () => {
    const r = await env.api('GET', '/protectables/disk/instances');
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.json.instances.map((i: { name: string }) => [i.name, i]));
    expect(byName['p1-a']).toEqual({
      id: vols[P1]![0],
      name: 'p1-a',
      type: 'OS::Cinder::Volume',
      size: 1,
      status: 'available',
      children: [],
      detail: {},
      protectable: { result: true, vault: null },
    });
    expect(byName['p1-b'].protectable).toMatchObject({ result: false, code: 'BackupService.6113' });
    expect(r.raw).toContain('"size":1,');
  });

  it('filters by name, status and id; paging past the end is 200 with []', async () => {
    expect((await env.api('GET', '/protectables/disk/instances?name=p1-b')).json.instances.map((i: { id: string }) => i.id)).toEqual([
      vols[P1]![1],
    ]);
    expect((await env.api('GET', '/protectables/disk/instances?status=available')).json.instances).toHaveLength(1);
    expect((await env.api('GET', `/protectables/disk/instances?id=${vols[P2]![0]}`)).json.instances).toEqual([]);
    expect((await env.api('GET', '/protectables/disk/instances?id=not-a-uuid')).json.instances).toEqual([]);
    const past = await env.api('GET', '/protectables/disk/instances?offset=50&limit=10');
    expect(past.status).toBe(200);
    expect(past.json).toEqual({ instances: [] });
  });

  it('tenant isolation: a project sees only its volumes', async () => {
    const r = await env.api('GET', '/protectables/disk/instances', { project: P2 });
    expect(r.json.instances.map((i: { id: string }) => i.id)).toEqual(vols[P2]);
  });
});

describe('errors and headers', () => {
  it('bad input is 400 BackupService.9900 naming the field, never a 500', async () => {
    for (const [q, field] of [
      ['limit=abc', 'limit'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['offset=-1', 'offset'],
    ]) {
      const r = await env.api('GET', `/protectables/disk/instances?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json).toEqual({ error_code: 'BackupService.9900', error_msg: expect.stringContaining(`Invalid parameter ${field}`) });
    }
    const t = await env.api('GET', '/protectables/server/instances');
    expect(t.status).toBe(400);
    expect(t.json.error_msg).toContain('protectable_type');
  });

  it('X-Request-Id is on every response: success, client error, unknown route, auth failure', async () => {
    const answers = [
      await env.api('GET', '/protectables/disk/instances'),
      await env.api('GET', '/protectables/disk/instances?limit=x'),
      await env.api('GET', '/nothing-here'),
      await env.api('GET', '/protectables/disk/instances', { headers: { 'x-auth-token': '' } }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 400, 404, 401]);
    for (const a of answers) expect(a.headers['x-request-id']).toMatch(/^req-/);
    expect(answers[2]!.json.error_code).toBe('APIGW.0101');
  });

  it('an empty body with Content-Type application/json is accepted on GET and DELETE; bad JSON is 400 9900', async () => {
    const get = await env.cbr.inject({
      method: 'GET',
      url: `/v3/${P1}/protectables/disk/instances`,
      headers: { 'x-auth-token': `u:${P1}`, 'content-type': 'application/json', 'content-length': '0' },
    });
    expect(get.statusCode).toBe(200);
    const bad = await env.cbr.inject({
      method: 'DELETE',
      url: `/v3/${P1}/protectables/disk/instances`,
      headers: { 'x-auth-token': `u:${P1}`, 'content-type': 'application/json' },
      payload: '{"x":',
    });
    expect(bad.headers['x-request-id']).toMatch(/^req-/);
    expect([400, 404]).toContain(bad.statusCode);
  });
});
