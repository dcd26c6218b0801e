import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';

// The /v1.0 database backup routes' answers that need no running cluster: views, 404s, Trove error bodies.
let a: TestApp;
const headers = { 'x-auth-token': 'u1:p1', 'content-type': 'application/json' };
beforeAll(async () => {
  a = await createTestApp();
});
afterAll(async () => a.close());

describe('trove backups API', () => {
  it('lists nothing, 404s an unknown id or a name, and answers bad input with Trove bodies', async () => {
    const list = await a.app.inject({ method: 'GET', url: '/v1.0/p1/backups', headers });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ backups: [] });
    for (const id of [randomUUID(), 'some-name']) {
      const r = await a.app.inject({ method: 'GET', url: `/v1.0/p1/backups/${id}`, headers });
      expect(r.statusCode).toBe(404);
      expect(r.json()).toEqual({ itemNotFound: { code: 404, message: `Resource ${id} cannot be found.` } });
      const d = await a.app.inject({ method: 'DELETE', url: `/v1.0/p1/backups/${id}`, headers });
      expect(d.statusCode).toBe(404);
    }
    const noName = await a.app.inject({
      method: 'POST',
      url: '/v1.0/p1/backups',
      headers,
      payload: { backup: { instance: randomUUID() } },
    });
    expect(noName.statusCode).toBe(400);
    expect(Object.keys(noName.json())).toEqual(['badRequest']);
    const badIncr = await a.app.inject({
      method: 'POST',
      url: '/v1.0/p1/backups',
      headers,
      payload: { backup: { name: 'b', instance: randomUUID(), incremental: 2 } },
    });
    expect(badIncr.statusCode).toBe(400);
    const inst = randomUUID();
    const unknown = await a.app.inject({
      method: 'POST',
      url: '/v1.0/p1/backups',
      headers,
      payload: { backup: { name: 'b', instance: inst } },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ itemNotFound: { code: 404, message: `Resource ${inst} cannot be found.` } });
    const noBody = await a.app.inject({ method: 'POST', url: '/v1.0/p1/backups', headers, payload: {} });
    expect(noBody.statusCode).toBe(400);
    const ref = randomUUID();
    const restore = await a.app.inject({
      method: 'POST',
      url: '/v1.0/p1/instances',
      headers,
      payload: { instance: { name: 'r', flavorRef: '1', volume: { size: 1 }, restorePoint: { backupRef: ref } } },
    });
    expect(restore.statusCode).toBe(404);
    expect(restore.json()).toEqual({ itemNotFound: { code: 404, message: `Resource ${ref} cannot be found.` } });
    const foreign = await a.app.inject({ method: 'GET', url: '/v1.0/p2/backups', headers });
    expect(foreign.statusCode).toBe(403);
    const allProjects = await a.app.inject({
      method: 'GET',
      url: '/v1.0/p1/backups?all_projects=True',
      headers: { ...headers, 'x-auth-token': 'u1:p1' },
    });
    expect([200, 403]).toContain(allProjects.statusCode);
  });
});
