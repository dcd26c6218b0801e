import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { OTHER_PROJECT, PROJECT, createProbeApp } from './http-fixtures.js';

/** URL shapes (§2.1) and noauth (§7.2) through the real app. */

let t: TestApp;
beforeAll(async () => {
  // Only OTHER_PROJECT's callers and the admin token are admins; everyone else is a member.
  t = await createProbeApp({ NOAUTH_ADMIN_PROJECTS: OTHER_PROJECT, NOAUTH_ADMIN_TOKEN: 'ops:root-token' });
});
afterAll(async () => t?.close());

const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

describe('URLs with and without the project id', () => {
  it("/v3/{project_id}/... and /v3/... reach the same route as the token's project", async () => {
    for (const url of [`/v3/${PROJECT}/test-probe`, '/v3/test-probe']) {
      const res = await get(url, { 'x-auth-token': `u1:${PROJECT}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ user: 'u1', project: PROJECT });
    }
  });

  it('a URL project id that differs from the caller\'s is 400 "Malformed request url"', async () => {
    const res = await get(`/v3/${OTHER_PROJECT}/test-probe`, { 'x-auth-token': `u1:${PROJECT}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ badRequest: { code: 400, message: 'Malformed request url' } });
  });

  it("an admin is still refused another project in the URL (the token's project is the effective one)", async () => {
    const res = await get(`/v3/${PROJECT}/test-probe`, { 'x-auth-token': `a1:${OTHER_PROJECT}` });
    expect(res.statusCode).toBe(400);
  });

  it('a non-hex project id in the URL does not route: 404', async () => {
    const res = await get('/v3/admin/test-probe', { 'x-auth-token': 'admin:admin' });
    expect(res.statusCode).toBe(404);
    expect(res.json().itemNotFound.code).toBe(404);
  });

  it('a non-hex token project works with project-less URLs', async () => {
    const res = await get('/v3/test-probe', { 'x-auth-token': 'admin:admin' });
    expect(res.statusCode).toBe(200);
    expect(res.json().project).toBe('admin');
  });
});

describe('noauth', () => {
  it('user:project splits at the first colon', async () => {
    const res = await get('/v3/test-probe', { 'x-auth-token': 'alice:proj:with:colons' });
    expect(res.json()).toMatchObject({ user: 'alice', project: 'proj:with:colons' });
  });

  it('a token without a colon is both user and project', async () => {
    const res = await get('/v3/test-probe', { 'x-auth-token': 'solo' });
    expect(res.json()).toMatchObject({ user: 'solo', project: 'solo' });
  });

  it('no token: 204 handshake with X-Auth-Token and X-Server-Management-Url, the route is not run', async () => {
    const res = await get(`/v3/${PROJECT}/test-probe/boom`, { 'x-auth-user': 'bob', 'x-auth-project-id': PROJECT, host: 'h.test:8776' });
    expect(res.statusCode).toBe(204);
    expect(res.headers['x-auth-token']).toBe(`bob:${PROJECT}`);
    expect(res.headers['x-server-management-url']).toBe(`http://h.test:8776/v3/${PROJECT}/test-probe/boom`);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
  });

  it('no token and no X-Auth-User: the handshake defaults to admin:admin', async () => {
    const res = await get('/v3/test-probe');
    expect(res.statusCode).toBe(204);
    expect(res.headers['x-auth-token']).toBe('admin:admin');
  });

  it('callers of a NOAUTH_ADMIN_PROJECTS project are admins', async () => {
    const res = await get('/v3/test-probe', { 'x-auth-token': `a1:${OTHER_PROJECT}` });
    expect(res.json()).toMatchObject({ is_admin: true, roles: ['admin', 'member', 'reader'] });
  });

  it('the NOAUTH_ADMIN_TOKEN is an admin whatever its project', async () => {
    const res = await get('/v3/test-probe', { 'x-auth-token': 'ops:root-token' });
    expect(res.json()).toMatchObject({ user: 'ops', project: 'root-token', is_admin: true });
  });

  it('everyone else is a plain member (NOAUTH_ROLES), not an admin', async () => {
    const res = await get('/v3/test-probe', { 'x-auth-token': `u1:${PROJECT}` });
    expect(res.json()).toMatchObject({ is_admin: false, roles: ['member', 'reader'] });
  });

  it('with the default NOAUTH_ADMIN_PROJECTS=* every caller is an admin, as in Cinder', async () => {
    const p = await createProbeApp();
    try {
      const res = await p.app.inject({ method: 'GET', url: '/v3/test-probe', headers: { 'x-auth-token': `u1:${PROJECT}` } });
      expect(res.json()).toMatchObject({ is_admin: true });
    } finally {
      await p.close();
    }
  });

  it('a token of only a colon is 401 unauthorized', async () => {
    const res = await get('/v3/test-probe', { 'x-auth-token': ':' });
    expect(res.statusCode).toBe(401);
    expect(res.json().unauthorized.code).toBe(401);
  });
});
