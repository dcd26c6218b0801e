import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P1, P2 } from '../integration/backups-fixtures.js';
import { dbFingerprint, expectFaultBody, startApiWorld, type ApiWorld } from '../reliability/api-world.js';

/**
 * Project P2 (a plain member; only ADMIN is admin) against P1's volume, snapshot and backup,
 * on every route of the OpenAPI document: a 404 (or 403 for admin actions, 400 for bad
 * input), never one of P1's ids or names, and nothing changed in the database.
 */
let w: ApiWorld;
const LATEST = '3.70';

beforeAll(async () => {
  w = await startApiWorld();
}, 120_000);
afterAll(async () => w?.env.close());

async function asP2(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await w.env.app.inject({
    method: method as 'GET',
    url,
    headers: { 'x-auth-token': `u2222222:${P2}`, 'openstack-api-version': `volume ${LATEST}`, ...headers },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: res.statusCode, body: res.body };
}

/** P1's ids, names and values in an answer, except what the caller itself sent (404s echo the id asked for). */
function leaks(body: string, sent = ''): string[] {
  return [...w.p1Ids, 'p1-secret-volume', 'p1value', P1].filter((s) => body.includes(s) && !sent.includes(s));
}

const bodies: Record<string, unknown> = {
  backups: { backup: { volume_id: '%volume%', name: 'x' } },
  restore: { restore: { volume_id: null, name: 'x' } },
  action: { 'os-reset_status': { status: 'error' } },
  update: { backup: { name: 'stolen' }, volume: { name: 'stolen' }, snapshot: { name: 'stolen' } },
  metadata: { metadata: { stolen: 'yes' } },
  meta: { meta: { stolen: 'yes' } },
  snapshots: { snapshot: { volume_id: '%volume%', name: 'x', force: true } },
  volumes: { volume: { size: 1, source_volid: '%volume%', snapshot_id: null } },
};

describe("tenant isolation: another project never sees or changes P1's resources", () => {
  it('every route answers P2 with 400/403/404 for P1 ids, leaks nothing and changes nothing', async () => {
    const doc = w.env.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const before = await dbFingerprint(w.env);
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v3/{project_id}/')) continue;
      for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
        const isBackup = path.includes('/backups/{id}');
        const isSnap = path.includes('/snapshots/{id}');
        const id = isBackup ? w.backupId : isSnap ? w.snapshotId : w.volumeId;
        if (!path.includes('{id}') && !path.includes('{target}')) continue; // collections: see the list tests
        const url = path.replace('{project_id}', P2).replace('{id}', id).replace('{key}', 'p1key').replace('{target}', P1);
        const key = path.endsWith('/restore')
          ? 'restore'
          : path.endsWith('/action')
            ? 'action'
            : path.includes('metadata/{key}')
              ? 'meta'
              : path.endsWith('/metadata')
                ? 'metadata'
                : 'update';
        const body =
          method === 'POST' || method === 'PUT' ? JSON.parse(JSON.stringify(bodies[key]).replaceAll('%volume%', w.volumeId)) : undefined;
        const res = await asP2(
          method,
          url,
          path.endsWith('/data') && method === 'PUT' ? Buffer.from('x') : body,
          path.endsWith('/data') && method === 'PUT' ? { 'content-type': 'application/octet-stream' } : {},
        );
        expect([400, 403, 404], `${method} ${path}: ${res.status} ${res.body.slice(0, 200)}`).toContain(res.status);
        expectFaultBody(res.status, res.body, `${method} ${path}`);
        expect(leaks(res.body, url + JSON.stringify(body ?? '')), `${method} ${path}: ${res.body.slice(0, 200)}`).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(25);
    expect(await dbFingerprint(w.env)).toBe(before);
  });

  it("creating from P1's volume, snapshot or backup as P2 is refused without touching P1's rows", async () => {
    const before = await dbFingerprint(w.env);
    const tries: Array<[string, unknown]> = [
      ['/backups', { backup: { volume_id: w.volumeId, name: 'x' } }],
      ['/backups', { backup: { volume_id: w.volumeId, snapshot_id: w.snapshotId, name: 'x' } }],
      ['/snapshots', { snapshot: { volume_id: w.volumeId, force: true } }],
      ['/volumes', { volume: { size: 1, source_volid: w.volumeId } }],
      ['/volumes', { volume: { size: 1, snapshot_id: w.snapshotId } }],
      ['/volumes', { volume: { size: 1, backup_id: w.backupId } }],
    ];
    for (const [path, body] of tries) {
      const res = await asP2('POST', `/v3/${P2}${path}`, body);
      expect([400, 404], `${path} ${JSON.stringify(body)}: ${res.body}`).toContain(res.status);
      expectFaultBody(res.status, res.body, path);
      expect(leaks(res.body, JSON.stringify(body)), res.body).toEqual([]);
    }
    expect(await dbFingerprint(w.env)).toBe(before);
  });

  it.each(['backups', 'volumes', 'snapshots'])('%s lists: filters, markers and all_tenants never show P1 rows to P2', async (res) => {
    const queries = [
      '',
      '?all_tenants=1',
      '?all_tenants=true&project_id=' + P1,
      `?volume_id=${w.volumeId}`,
      `?name=p1-secret-volume`,
      `?marker=${res === 'backups' ? w.backupId : res === 'snapshots' ? w.snapshotId : w.volumeId}`,
      '?sort=created_at:desc&limit=1000&with_count=true',
      `?project_id=${P1}`,
    ];
    for (const q of queries) {
      for (const path of [`/${res}`, `/${res}/detail`]) {
        const r = await asP2('GET', `/v3/${P2}${path}${q}`);
        expect([200, 400, 404], `${path}${q}: ${r.body}`).toContain(r.status);
        if (r.status !== 200) expectFaultBody(r.status, r.body, `${path}${q}`);
        expect(leaks(r.body, q), `${path}${q}: ${r.body.slice(0, 300)}`).toEqual([]);
      }
    }
  });

  it("the project-less /v3 routes and a mismatched URL project id never reach P1's resources", async () => {
    for (const url of [
      `/v3/backups/${w.backupId}`,
      `/v3/volumes/${w.volumeId}`,
      `/v3/${P1}/backups/${w.backupId}`,
      `/v3/${P1}/volumes/detail`,
      `/v3/${P1}/backups/${w.backupId}/export_record`,
    ]) {
      const r = await asP2('GET', url);
      expect([400, 404], `${url}: ${r.body}`).toContain(r.status);
      expectFaultBody(r.status, r.body, url);
      expect(leaks(r.body, url), r.body).toEqual([]);
    }
  });

  it('admin-only backup actions are 403 for a member even on its own project', async () => {
    for (const action of [{ 'os-reset_status': { status: 'error' } }, { 'os-force_delete': {} }]) {
      const r = await asP2('POST', `/v3/${P2}/backups/${w.backupId}/action`, action);
      expect([403, 404]).toContain(r.status);
    }
    const exp = await asP2('GET', `/v3/${P2}/backups/${w.backupId}/export_record`);
    expect([403, 404]).toContain(exp.status);
    const imp = await asP2('POST', `/v3/${P2}/backups/import_record`, { 'backup-record': { backup_service: 'x', backup_url: 'e30=' } });
    expect(imp.status).toBe(403);
    expectFaultBody(imp.status, imp.body, 'import_record');
  });
});
