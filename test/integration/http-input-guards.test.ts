import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type BackupTestEnv, P1, backupTestEnv, makeSnapshot, makeVolume } from './backups-fixtures.js';

/**
 * Inputs that used to end in a 500: a NUL character in any string (Postgres text cannot hold
 * one), sort keys and filters named like Object.prototype members, and deeply nested JSON.
 * Each is a 400 badRequest in Cinder's fault body, and nothing is written.
 */
let env: BackupTestEnv;
let vol: string;
let snap: string;
beforeAll(async () => {
  env = await backupTestEnv();
  vol = await makeVolume(env, P1);
  snap = await makeSnapshot(env, P1, vol);
});
afterAll(async () => env?.close());

async function expect400(method: string, url: string, project: string, payload?: string): Promise<string> {
  const res = await env.app.inject({
    method: method as 'GET',
    url,
    headers: { 'x-auth-token': `u:${project}`, 'content-type': 'application/json' },
    ...(payload !== undefined ? { payload } : {}),
  });
  expect(res.statusCode, `${method} ${url}: ${res.body.slice(0, 300)}`).toBe(400);
  const body = res.json();
  expect(Object.keys(body), url).toEqual(['badRequest']);
  expect(body.badRequest.code).toBe(400);
  return body.badRequest.message as string;
}

const nul = 'a\\u0000b';
const v3 = (project: string, path: string) => `/v3/${project}${path}`;

describe('a NUL character is a 400, wherever it is', () => {
  const bodies: Array<[string, string, string]> = [
    ['POST', '/volumes', `{"volume":{"size":1,"name":"${nul}"}}`],
    ['POST', '/volumes', `{"volume":{"size":1,"description":"${nul}"}}`],
    ['POST', '/volumes', `{"volume":{"size":1,"metadata":{"${nul}":"v"}}}`],
    ['PUT', '/volumes/VOL', `{"volume":{"name":"${nul}"}}`],
    ['POST', '/volumes/VOL/metadata', `{"metadata":{"k":"${nul}"}}`],
    ['PUT', '/volumes/VOL/metadata/k', `{"meta":{"k":"${nul}"}}`],
    ['POST', '/volumes/VOL/action', `{"os-attach":{"mountpoint":"${nul}"}}`],
    ['POST', '/snapshots', `{"snapshot":{"volume_id":"VOL","name":"${nul}"}}`],
    ['PUT', '/snapshots/SNAP', `{"snapshot":{"description":"${nul}"}}`],
    ['POST', '/snapshots/SNAP/metadata', `{"metadata":{"${nul}":"v"}}`],
    ['POST', '/backups', `{"backup":{"volume_id":"VOL","name":"${nul}"}}`],
    ['POST', '/backups', `{"backup":{"volume_id":"VOL","container":"${nul}"}}`],
    ['PUT', '/os-quota-sets/P', `{"quota_set":{"${nul}":1}}`],
  ];
  it.each(bodies)('%s %s %s', async (method, path, payload) => {
    const url = v3(P1, path.replace('VOL', vol).replace('SNAP', snap).replace('/P', `/${P1}`));
    const before = await env.t.db.selectFrom('volumes').select(['id', 'updated_at']).execute();
    const message = await expect400(method, url, P1, payload.replace('"VOL"', `"${vol}"`));
    expect(message).toMatch(/must not contain a NUL character/);
    expect(await env.t.db.selectFrom('volumes').select(['id', 'updated_at']).execute()).toEqual(before);
  });

  it.each([
    ['GET', '/os-quota-sets/x%00y'],
    ['PUT', '/os-quota-sets/x%00y'],
    ['GET', '/limits?project_id=x%00y'],
    ['GET', '/volumes?all_tenants=1&display_name=a%00b'],
    ['GET', '/snapshots/detail?all_tenants=1&user_id=a%00b'],
    ['GET', '/backups?all_tenants=1&project_id=a%00b'],
    ['GET', '/volumes?name=a%00b'],
    ['GET', '/volumes/x%00y'],
  ])('%s %s (path or query)', async (method, path) => {
    expect(await expect400(method, v3(ADMIN, path), ADMIN, method === 'PUT' ? '{"quota_set":{"volumes":1}}' : undefined)).toMatch(
      /must not contain a NUL character/,
    );
  });

  it('an imported record with a NUL in a string', async () => {
    const rec = Buffer.from(JSON.stringify({ id: '5d5d5d5d-0000-4000-8000-00000000000a', size: 1, display_name: 'a\u0000b' })).toString(
      'base64',
    );
    const payload = JSON.stringify({ 'backup-record': { backup_service: 'cinder.backup.drivers.posix', backup_url: rec } });
    expect(await expect400('POST', v3(ADMIN, '/backups/import_record'), ADMIN, payload)).toMatch(/must not contain a NUL character/);
  });
});

describe('sort keys and filters named like Object.prototype members are a 400', () => {
  const keys = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
  const lists = ['/volumes', '/volumes/detail', '/snapshots', '/snapshots/detail', '/backups', '/backups/detail'];
  it('sort and sort_key on every list, as member and admin', async () => {
    for (const list of lists) {
      for (const key of keys) {
        for (const project of [P1, ADMIN]) {
          expect(await expect400('GET', v3(project, `${list}?sort=${key}`), project)).toBe('Invalid input received: Invalid sort key');
          expect(await expect400('GET', v3(project, `${list}?sort_key=${key}`), project)).toBe('Invalid input received: Invalid sort key');
        }
      }
    }
  });

  it('admin filters with those names match nothing (200, empty), never a 500', async () => {
    for (const list of lists) {
      for (const key of keys) {
        const res = await env.app.inject({ url: v3(ADMIN, `${list}?all_tenants=1&${key}=1`), headers: { 'x-auth-token': `u:${ADMIN}` } });
        expect(res.statusCode, `${list} ${key}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
      }
    }
  });
});

describe('deeply nested JSON is a 400', () => {
  it('an array 50,000 levels deep (within the body limit)', async () => {
    const deep = `{"backup": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    expect(await expect400('POST', v3(P1, '/backups'), P1, deep)).toMatch(/nested more than 64 levels/);
  });

  it('an object 1,000 levels deep, on a Cinder and a Trove route', async () => {
    const deep = `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`;
    expect(await expect400('POST', v3(P1, '/volumes'), P1, deep)).toMatch(/nested more than 64 levels/);
    const trove = await env.app.inject({
      method: 'POST',
      url: `/v1.0/${P1}/instances`,
      headers: { 'x-auth-token': `u:${P1}`, 'content-type': 'application/json' },
      payload: deep,
    });
    expect(trove.statusCode, trove.body).toBe(400);
  });

  it('a validation message never fails on a deep value (65 levels shown as a field value)', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: v3(P1, '/backups'),
      headers: { 'x-auth-token': `u:${P1}`, 'content-type': 'application/json' },
      payload: `{"backup": ${'['.repeat(60)}${']'.repeat(60)}}`,
    });
    expect(res.statusCode).toBe(400);
  });
});
