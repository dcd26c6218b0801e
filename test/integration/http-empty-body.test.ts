import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiWorld, startApiWorld } from '../reliability/api-world.js';
import { fillPath, type RouteEntry, routeTable } from '../helpers/route-table.js';
import { ADMIN, P1 } from './backups-fixtures.js';

/**
 * Clients built on keystoneauth send `Content-Type: application/json` on every request, a
 * bodiless DELETE included. An empty body is no body, on every route of every API the main
 * listener serves, whether announced by Content-Length: 0 or sent chunked.
 */
let w: ApiWorld;
let routes: RouteEntry[];
let base: string;

beforeAll(async () => {
  w = await startApiWorld();
  await w.stopWorkers();
  routes = routeTable(w.env.app);
  // DELETEs last, so every other route still finds the world's resources.
  routes.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
  await w.env.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(w.env.app.server.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => w?.env.close());

function urlOf(route: RouteEntry): string {
  const id = route.path.includes('/volumes/:id')
    ? w.volumeId
    : route.path.includes('/snapshots/:id')
      ? w.snapshotId
      : route.path.includes('/v3') && route.path.includes('/backups/:id')
        ? w.backupId
        : randomUUID();
  return fillPath(route.path, { project_id: P1, target: P1, id, key: 'p1key' }, 'x');
}

/** The volume data route would stream a whole GiB: a Range keeps its answer small. */
const rangeOf = (url: string): Record<string, string> => (url.endsWith('/data') ? { range: 'bytes=0-15' } : {});

/** One request over a real socket with `Transfer-Encoding: chunked` and no chunk but the last. */
function chunkedEmpty(method: string, url: string, project: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${url}`, {
      method,
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'x-auth-token': `u:${project}`, ...rangeOf(url) },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function expectAccepted(where: string, status: number, body: string): void {
  expect(status, `${where}: ${body.slice(0, 300)}`).toBeLessThan(500);
  expect(body, where).not.toContain('Malformed request body');
}

describe('an empty body with a JSON content type is no body', () => {
  it('the route table covers Cinder /v3 (with and without the project) and Trove /v1.0', () => {
    const paths = routes.map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain('DELETE /v3/:project_id/volumes/:id');
    expect(paths).toContain('DELETE /v3/volumes/:id');
    expect(paths).toContain('DELETE /v1.0/:project_id/instances/:id');
    expect(routes.length).toBeGreaterThan(60);
  });

  it('a DELETE with Content-Type: application/json and Content-Length: 0 deletes', async () => {
    await w.env.t.db.insertInto('volume_metadata').values({ volume_id: w.volumeId, key: 'gone', value: 'v' }).execute();
    const res = await w.env.app.inject({
      method: 'DELETE',
      url: `/v3/${P1}/volumes/${w.volumeId}/metadata/gone`,
      headers: { 'content-type': 'application/json', 'content-length': '0', 'x-auth-token': `u:${P1}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    const left = await w.env.t.db.selectFrom('volume_metadata').selectAll().where('key', '=', 'gone').execute();
    expect(left).toEqual([]);
  });

  it('every route, as member and as admin, answers neither 400 "Malformed request body" nor 5xx (Content-Length: 0)', async () => {
    for (const project of [P1, ADMIN]) {
      for (const route of routes) {
        const url = urlOf(route);
        const res = await w.env.app.inject({
          method: route.method as 'GET',
          url,
          headers: { 'content-type': 'application/json', 'content-length': '0', 'x-auth-token': `u:${project}`, ...rangeOf(url) },
          payload: '',
        });
        expectAccepted(`${route.method} ${url} as ${project}`, res.statusCode, res.body);
      }
    }
  }, 120_000);

  it('every route answers neither 400 "Malformed request body" nor 5xx (chunked, no data)', async () => {
    for (const route of routes) {
      const url = urlOf(route);
      const res = await chunkedEmpty(route.method, url, P1);
      expectAccepted(`${route.method} ${url} chunked`, res.status, res.body);
    }
  }, 120_000);
});
