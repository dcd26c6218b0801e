import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

const P = 'trovep1';
const tok = (project: string, user = 'alice') => ({ 'x-auth-token': `${user}:${project}` });

describe('Trove /v1.0 plumbing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ NOAUTH_ADMIN_PROJECTS: 'adminproj' });
  });
  afterAll(async () => t?.close());

  it('serves the version document without auth at /v1.0 and /v1.0/', async () => {
    for (const url of ['/v1.0', '/v1.0/']) {
      const res = await t.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.json().version).toMatchObject({ id: 'v1.0', status: 'CURRENT' });
    }
  });

  it('lists flavors and shows one by id; a name or unknown id is 404 itemNotFound', async () => {
    const list = await t.app.inject({ url: `/v1.0/${P}/flavors`, headers: tok(P) });
    expect(list.statusCode).toBe(200);
    expect(list.json().flavors.map((f: { id: number }) => f.id)).toEqual([1, 2, 3]);
    expect(list.json().flavors[1]).toMatchObject({ id: 2, name: 'm1.small', ram: 1024, str_id: '2' });
    const one = await t.app.inject({ url: `/v1.0/${P}/flavors/2`, headers: tok(P) });
    expect(one.json().flavor.links[0].href).toMatch(new RegExp(`/v1.0/${P}/flavors/2$`));
    const byName = await t.app.inject({ url: `/v1.0/${P}/flavors/m1.small`, headers: tok(P) });
    expect(byName.statusCode).toBe(404);
    expect(byName.json()).toEqual({ itemNotFound: { code: 404, message: 'Resource m1.small cannot be found.' } });
  });

  it('lists datastores and versions by datastore name or id; unknown ones are 404', async () => {
    const ds = (await t.app.inject({ url: `/v1.0/${P}/datastores`, headers: tok(P) })).json().datastores;
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ name: 'postgresql', versions: [{ name: '15' }] });
    expect(ds[0].default_version).toBe(ds[0].versions[0].id);
    for (const ref of ['postgresql', ds[0].id]) {
      const v = await t.app.inject({ url: `/v1.0/${P}/datastores/${ref}/versions`, headers: tok(P) });
      expect(v.statusCode).toBe(200);
      expect(v.json().versions[0]).toMatchObject({ name: '15', datastore: ds[0].id });
      expect((await t.app.inject({ url: `/v1.0/${P}/datastores/${ref}/versions/15`, headers: tok(P) })).statusCode).toBe(200);
    }
    expect((await t.app.inject({ url: `/v1.0/${P}/datastores/versions/${ds[0].default_version}`, headers: tok(P) })).statusCode).toBe(200);
    const bad = await t.app.inject({ url: `/v1.0/${P}/datastores/mysql/versions`, headers: tok(P) });
    expect(bad.json()).toEqual({ itemNotFound: { code: 404, message: "Datastore 'mysql' cannot be found." } });
    expect((await t.app.inject({ url: `/v1.0/${P}/datastores/postgresql/versions/14`, headers: tok(P) })).statusCode).toBe(404);
  });

  it('auth: no token 401, URL project other than the token project 403, a token without a colon takes the URL project', async () => {
    const none = await t.app.inject({ url: `/v1.0/${P}/flavors` });
    expect(none.statusCode).toBe(401);
    expect(Object.keys(none.json())).toEqual(['unauthorized']);
    const other = await t.app.inject({ url: `/v1.0/${P}/flavors`, headers: tok('someoneelse') });
    expect(other.statusCode).toBe(403);
    expect(other.json()).toEqual({ forbidden: { code: 403, message: 'User with tenant id someoneelse cannot access this resource.' } });
    for (const token of ['notused', 'bob']) {
      expect((await t.app.inject({ url: `/v1.0/${P}/flavors`, headers: { 'x-auth-token': token } })).statusCode, token).toBe(200);
    }
  });

  it('unknown routes and methods under /v1.0 are 404 itemNotFound in Trove envelope', async () => {
    for (const [method, url] of [
      ['GET', `/v1.0/${P}/nothing`],
      ['PUT', `/v1.0/${P}/flavors`],
      ['GET', '/v1.0/x/y/z/w'],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: tok(P) });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().itemNotFound.code).toBe(404);
    }
  });

  it('accepts Content-Type: application/json with an empty body', async () => {
    const empty = await t.app.inject({
      method: 'GET',
      url: `/v1.0/${P}/flavors`,
      headers: { ...tok(P), 'content-type': 'application/json' },
      payload: '',
    });
    expect(empty.statusCode).toBe(200);
  });

  it('leaves the Cinder side untouched: /v3 errors keep Cinder names', async () => {
    const res = await t.app.inject({ url: '/v3/nothing-here', headers: tok(P) });
    expect(res.statusCode).toBe(404);
    expect(Object.keys(res.json())).toEqual(['itemNotFound']);
  });
});
