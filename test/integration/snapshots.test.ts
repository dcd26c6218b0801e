import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, P1, P2, type VolumeTestApp, createVolumeTestApp, makeVolume } from './volumes-fixture.js';

let t: VolumeTestApp;
beforeAll(async () => {
  t = await createVolumeTestApp();
});
afterAll(async () => {
  await t?.close();
});

const V30 = ['created_at', 'description', 'id', 'metadata', 'name', 'size', 'status', 'updated_at', 'volume_id'];
const EXT = ['os-extended-snapshot-attributes:progress', 'os-extended-snapshot-attributes:project_id'];
const SERVER = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

async function snapshot(volumeId: string, extra: Record<string, unknown> = {}, version?: string, project = P1) {
  return t.req('POST', `/v3/${project}/snapshots`, { project, version, body: { snapshot: { volume_id: volumeId, ...extra } } });
}

describe('snapshots API (seed 003)', () => {
  it('creates (202, exact 3.0 fields, creating), copies in a job to available 100%, show adds the extended attributes', async () => {
    const vol = await makeVolume(t);
    const r = await snapshot(vol, { name: 'n', description: 'd', metadata: { k: 'v' } });
    expect(r.status).toBe(202);
    expect(Object.keys(r.json.snapshot).sort()).toEqual(V30);
    expect(r.json.snapshot.status).toBe('creating');
    const s = await t.waitFor('snapshots', r.json.snapshot.id, 'available');
    expect(Object.keys(s!).sort()).toEqual([...V30, ...EXT].sort());
    expect(s!['os-extended-snapshot-attributes:progress']).toBe('100%');
    expect(s!['os-extended-snapshot-attributes:project_id']).toBe(P1);
    const late = await t.req('GET', `/v3/${P1}/snapshots/${r.json.snapshot.id}`, { version: '3.65' });
    expect(late.json.snapshot).toMatchObject({ group_snapshot_id: null, user_id: 'u0000000', consumes_quota: true });
  });

  it('refuses an in-use volume without force, accepts it with force, and at 3.66 without force but not with force=false', async () => {
    const vol = await makeVolume(t);
    await t.req('POST', `/v3/${P1}/volumes/${vol}/action`, { body: { 'os-attach': { instance_uuid: SERVER, mountpoint: '/dev/vdb' } } });
    const refused = await snapshot(vol);
    expect(refused.status).toBe(400);
    expect(refused.json.badRequest.message).toBe(`Invalid volume: Volume ${vol} status must be available, but current status is: in-use.`);
    expect((await snapshot(vol, { force: 'true' })).status).toBe(202);
    expect((await snapshot(vol, {}, '3.66')).status).toBe(202);
    expect((await snapshot(vol, { force: false }, '3.66')).status).toBe(400);
  });

  it('rejects invalid create bodies with 400 and an unknown volume with 404', async () => {
    const vol = await makeVolume(t);
    for (const snap of [
      { volume_id: 'nope' },
      { volume_id: vol, name: 'x'.repeat(256) },
      { volume_id: vol, bogus: 1 },
      { volume_id: vol, force: 'maybe' },
      { volume_id: vol, display_description: 'd' },
      {},
    ]) {
      const r = await t.req('POST', `/v3/${P1}/snapshots`, { body: { snapshot: snap } });
      expect(r.status, JSON.stringify(snap)).toBe(400);
      expect(r.json.badRequest.code).toBe(400);
    }
    expect((await snapshot('11111111-2222-4333-8444-555555555555')).status).toBe(404);
  });

  it('lists (plain list without extended attributes or MV fields), pages by name at 3.30, and hides other projects', async () => {
    const vol = await makeVolume(t, {}, P2);
    for (const name of ['c', 'a', 'b'])
      await t.waitFor('snapshots', (await snapshot(vol, { name }, undefined, P2)).json.snapshot.id, 'available', P2);
    const plain = await t.req('GET', `/v3/${P2}/snapshots`, { project: P2, version: '3.65' });
    expect(Object.keys(plain.json.snapshots[0]).sort()).toEqual(V30);
    const names: string[] = [];
    let url: string | null = `/v3/${P2}/snapshots/detail?limit=1&sort=name:asc`;
    for (let i = 0; url && i < 5; i++) {
      const r = await t.req('GET', url, { project: P2, version: '3.30' });
      names.push(...r.json.snapshots.map((s: { name: string }) => s.name));
      const next = r.json.snapshots_links?.[0]?.href as string | undefined;
      url = next ? next.slice(next.indexOf('/v3/')) : null;
    }
    expect(names).toEqual(['a', 'b', 'c']);
    expect((await t.req('GET', `/v3/${P2}/snapshots?sort=name`, { project: P2, version: '3.29' })).status).toBe(400);
    const other = await t.req('GET', `/v3/${P1}/snapshots?all_tenants=true`);
    expect(other.json.snapshots.filter((s: { volume_id: string }) => s.volume_id === vol)).toEqual([]);
    const id = plain.json.snapshots[0].id;
    expect((await t.req('GET', `/v3/${P1}/snapshots/${id}`)).status).toBe(404);
    const counted = await t.req('GET', `/v3/${P2}/snapshots?with_count=true`, { project: P2, version: '3.45' });
    expect(counted.json.count).toBe(3);
  });

  it('updates name/description (200) and refuses an empty or unknown-key body', async () => {
    const vol = await makeVolume(t);
    const r = await snapshot(vol);
    const id = r.json.snapshot.id;
    const u = await t.req('PUT', `/v3/${P1}/snapshots/${id}`, { body: { snapshot: { display_name: 'dn', description: 'dd' } } });
    expect(u.status).toBe(200);
    expect(u.json.snapshot).toMatchObject({ name: 'dn', description: 'dd' });
    expect((await t.req('PUT', `/v3/${P1}/snapshots/${id}`, { body: { snapshot: {} } })).status).toBe(400);
    expect((await t.req('PUT', `/v3/${P1}/snapshots/${id}`, { body: { snapshot: { size: 2 } } })).status).toBe(400);
  });

  it('deletes through a job (202, then 404) and refuses a snapshot that is creating', async () => {
    const vol = await makeVolume(t);
    const id = (await snapshot(vol)).json.snapshot.id;
    await t.waitFor('snapshots', id, 'available');
    await t.deps.db.updateTable('snapshots').set({ status: 'creating' }).where('id', '=', id).execute();
    const refused = await t.req('DELETE', `/v3/${P1}/snapshots/${id}`);
    expect(refused.status).toBe(400);
    expect(refused.json.badRequest.message).toBe(
      'Invalid snapshot: Snapshot status must be available or error and must not be part of a group.',
    );
    await t.deps.db.updateTable('snapshots').set({ status: 'available' }).where('id', '=', id).execute();
    expect((await t.req('DELETE', `/v3/${P1}/snapshots/${id}`)).status).toBe(202);
    await t.waitFor('snapshots', id, null);
  });

  it('keeps os-reset_status and os-force_delete admin-only; os-update_snapshot_status follows its table', async () => {
    const vol = await makeVolume(t, {}, ADMIN);
    const id = (await snapshot(vol, {}, undefined, ADMIN)).json.snapshot.id;
    await t.waitFor('snapshots', id, 'available', ADMIN);
    const memberVol = await makeVolume(t);
    const mid = (await snapshot(memberVol)).json.snapshot.id;
    await t.waitFor('snapshots', mid, 'available');
    const act = (sid: string, body: unknown, project = P1) => t.req('POST', `/v3/${project}/snapshots/${sid}/action`, { project, body });
    expect((await act(mid, { 'os-reset_status': { status: 'error' } })).status).toBe(403);
    expect((await act(mid, { 'os-force_delete': {} })).status).toBe(403);
    expect((await act(mid, { 'os-update_snapshot_status': { status: 'error' } })).status).toBe(400);
    expect((await act(id, { 'os-reset_status': { status: 'sideways' } }, ADMIN)).status).toBe(400);
    expect((await act(id, { 'os-reset_status': { status: 'CREATING' } }, ADMIN)).status).toBe(202);
    expect((await act(id, { 'os-update_snapshot_status': { status: 'available', progress: '101%' } }, ADMIN)).status).toBe(400);
    expect((await act(id, { 'os-update_snapshot_status': { status: 'available', progress: '90%' } }, ADMIN)).status).toBe(202);
    const s = await t.waitFor('snapshots', id, 'available', ADMIN);
    expect(s!['os-extended-snapshot-attributes:progress']).toBe('90%');
    expect((await act(id, { 'os-force_delete': {} }, ADMIN)).status).toBe(202);
    await t.waitFor('snapshots', id, null, ADMIN);
  });

  it('os-update_snapshot_status cannot mark a snapshot available while its copy job is live', async () => {
    const vol = await makeVolume(t);
    const id = (await snapshot(vol)).json.snapshot.id;
    await t.waitFor('snapshots', id, 'available');
    // As if the copy were still running (on another worker, holding its lease).
    await t.deps.db.updateTable('snapshots').set({ status: 'creating' }).where('id', '=', id).execute();
    await t.deps.db
      .insertInto('jobs')
      .values({
        kind: 'snapshot_create',
        resource_id: id,
        payload: '{}',
        status: 'running',
        lease_owner: 'elsewhere',
        lease_expires_at: new Date(Date.now() + 3_600_000),
      })
      .execute();
    const act = (status: string) =>
      t.req('POST', `/v3/${P1}/snapshots/${id}/action`, { body: { 'os-update_snapshot_status': { status } } });
    const refused = await act('available');
    expect(refused.status).toBe(400);
    expect(refused.json.badRequest.message).toMatch(/still being copied/);
    await t.deps.db.updateTable('jobs').set({ status: 'done' }).where('resource_id', '=', id).execute();
    expect((await act('available')).status).toBe(202);
  });

  it('metadata: merge, replace, key set/get/delete, 404 for a missing key', async () => {
    const vol = await makeVolume(t);
    const id = (await snapshot(vol, { metadata: { a: '1' } })).json.snapshot.id;
    const base = `/v3/${P1}/snapshots/${id}/metadata`;
    expect((await t.req('POST', base, { body: { metadata: { b: '2' } } })).json.metadata).toEqual({ a: '1', b: '2' });
    expect((await t.req('PUT', base, { body: { metadata: { c: '3' } } })).json.metadata).toEqual({ c: '3' });
    expect((await t.req('PUT', `${base}/c`, { body: { meta: { c: '4', d: '5' } } })).status).toBe(400);
    expect((await t.req('DELETE', `${base}/c`)).status).toBe(200);
    expect((await t.req('GET', `${base}/c`)).json.itemNotFound.message).toBe(`Snapshot ${id} has no metadata with key c.`);
  });
});
