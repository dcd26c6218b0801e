import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, P1, P2, type VolumeTestApp, createVolumeTestApp, makeVolume } from './volumes-fixture.js';

let t: VolumeTestApp;
beforeAll(async () => {
  t = await createVolumeTestApp();
});
afterAll(async () => {
  await t?.close();
});

const V30_DETAIL = [
  'attachments',
  'availability_zone',
  'bootable',
  'consistencygroup_id',
  'created_at',
  'description',
  'encrypted',
  'id',
  'links',
  'metadata',
  'multiattach',
  'name',
  'replication_status',
  'size',
  'snapshot_id',
  'source_volid',
  'status',
  'updated_at',
  'user_id',
  'volume_type',
];
const UUID_A = '11111111-2222-4333-8444-555555555555';

describe('volumes API', () => {
  it('creates (202, exact 3.0 field set, bootable a string), then shows it available with the tenant attribute only for show', async () => {
    const r = await t.req('POST', `/v3/${P1}/volumes`, {
      body: { volume: { size: 1, name: 'v', description: 'd', metadata: { k: 'v' } } },
    });
    expect(r.status).toBe(202);
    expect(Object.keys(r.json.volume).sort()).toEqual(V30_DETAIL);
    expect(r.json.volume.bootable).toBe('false');
    expect(r.json.volume.status).toBe('creating');
    const shown = await t.waitFor('volumes', r.json.volume.id, 'available');
    expect(Object.keys(shown!).sort()).toEqual([...V30_DETAIL, 'os-vol-tenant-attr:tenant_id'].sort());
    expect(shown!.metadata).toEqual({ k: 'v' });
  });

  it('shows admins the host (host@backend#pool) and migration fields, and gates 3.x fields by microversion', async () => {
    const id = await makeVolume(t, {}, ADMIN);
    const r = await t.req('GET', `/v3/${ADMIN}/volumes/${id}`, { project: ADMIN });
    expect(r.json.volume['os-vol-host-attr:host']).toMatch(/.+@.+#.+/);
    expect(r.json.volume).toHaveProperty('migration_status');
    expect(r.json.volume).not.toHaveProperty('group_id');
    const late = await t.req('GET', `/v3/${ADMIN}/volumes/${id}`, { project: ADMIN, version: '3.65' });
    for (const k of ['group_id', 'provider_id', 'shared_targets', 'service_uuid', 'cluster_name', 'volume_type_id', 'consumes_quota'])
      expect(late.json.volume).toHaveProperty(k);
  });

  it('rejects invalid create fields with a Cinder 400 body', async () => {
    const bad: Array<[Record<string, unknown>, string?]> = [
      [{ size: -1 }],
      [{ size: 0 }],
      [{ size: 2147483648 }],
      [{ size: 'ten' }],
      [{ size: 1.5 }],
      [{ size: 1, name: 'x'.repeat(256) }],
      [{ size: 1, name: 42 }],
      [{ size: 1, snapshot_id: 'not-a-uuid' }],
      [{ size: 1, metadata: { 'bad key!': 'v' } }],
      [{ size: 1, metadata: { k: 'v'.repeat(256) } }],
      [{ size: 1, metadata: 'nope' }],
      [{ size: 1, bogus: 1 }, '3.53'],
      [{ size: 1, availability_zone: 'elsewhere' }],
      [{}],
    ];
    for (const [volume, version] of bad) {
      const r = await t.req('POST', `/v3/${P1}/volumes`, { body: { volume }, version });
      expect(r.status, JSON.stringify(volume)).toBe(400);
      expect(r.json.badRequest.code).toBe(400);
    }
    const ignored = await t.req('POST', `/v3/${P1}/volumes`, { body: { volume: { size: 1, bogus: 1 } }, version: '3.52' });
    expect(ignored.status).toBe(202);
    const missingBackup = await t.req('POST', `/v3/${P1}/volumes`, { body: { volume: { size: 1, backup_id: UUID_A } }, version: '3.53' });
    expect(missingBackup.status).toBe(404);
  });

  it('updates name/description/metadata (200) and refuses unknown keys', async () => {
    const id = await makeVolume(t);
    const r = await t.req('PUT', `/v3/${P1}/volumes/${id}`, { body: { volume: { name: 'renamed', metadata: { a: '1' } } } });
    expect(r.status).toBe(200);
    expect(r.json.volume.name).toBe('renamed');
    expect(r.json.volume.metadata).toEqual({ a: '1' });
    expect(r.json.volume).not.toHaveProperty('os-vol-tenant-attr:tenant_id');
    expect((await t.req('PUT', `/v3/${P1}/volumes/${id}`, { body: { volume: { size: 3 } } })).status).toBe(400);
    expect((await t.req('PUT', `/v3/${P1}/volumes/${id}`, { body: { volume: {} }, version: '3.53' })).status).toBe(400);
  });

  it('pages with limit/marker and sort across pages, with volumes_links and count (3.45)', async () => {
    const ids: string[] = [];
    for (const size of [3, 1, 2, 5, 4]) ids.push(await makeVolume(t, { size, name: `page-${size}` }, P2));
    const seen: number[] = [];
    let url: string | null = `/v3/${P2}/volumes/detail?limit=2&sort=size:asc&with_count=true`;
    for (let i = 0; url && i < 5; i++) {
      const r = await t.req('GET', url, { project: P2, version: '3.45' });
      expect(r.status).toBe(200);
      expect(r.json.count).toBe(5);
      seen.push(...r.json.volumes.map((v: { size: number }) => v.size));
      const next = r.json.volumes_links?.[0]?.href as string | undefined;
      url = next ? next.slice(next.indexOf('/v3/')) : null;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const plain = await t.req('GET', `/v3/${P2}/volumes`, { project: P2 });
    expect(Object.keys(plain.json)).toEqual(['volumes']);
    expect(Object.keys(plain.json.volumes[0]).sort()).toEqual(['id', 'links', 'name']);
    expect((await t.req('GET', `/v3/${P2}/volumes?sort_dir=sideways`, { project: P2 })).status).toBe(400);
    expect((await t.req('GET', `/v3/${P2}/volumes?marker=${UUID_A}`, { project: P2 })).status).toBe(404);
  });

  it("isolates tenants: another project's volume is a 404, absent from lists; all_tenants is ignored for members, honoured for admins", async () => {
    const id = await makeVolume(t);
    expect((await t.req('GET', `/v3/${P2}/volumes/${id}`, { project: P2 })).status).toBe(404);
    expect((await t.req('DELETE', `/v3/${P2}/volumes/${id}`, { project: P2 })).status).toBe(404);
    const list = await t.req('GET', `/v3/${P2}/volumes?all_tenants=1`, { project: P2 });
    expect(list.json.volumes.map((v: { id: string }) => v.id)).not.toContain(id);
    const admin = await t.req('GET', `/v3/${ADMIN}/volumes?all_tenants=1`, { project: ADMIN });
    expect(admin.json.volumes.map((v: { id: string }) => v.id)).toContain(id);
    expect((await t.req('GET', `/v3/${P1}/volumes/not-a-uuid`)).status).toBe(404);
  });

  it('metadata endpoints: merge, replace, key get/set/delete, mismatch 400, missing key 404, over-long 413', async () => {
    const id = await makeVolume(t, { metadata: { a: '1' } });
    const base = `/v3/${P1}/volumes/${id}/metadata`;
    expect((await t.req('POST', base, { body: { metadata: { b: '2' } } })).json.metadata).toEqual({ a: '1', b: '2' });
    expect((await t.req('PUT', base, { body: { metadata: { c: '3' } } })).json.metadata).toEqual({ c: '3' });
    expect((await t.req('GET', `${base}/c`)).json).toEqual({ meta: { c: '3' } });
    expect((await t.req('PUT', `${base}/c`, { body: { meta: { c: '4' } } })).json).toEqual({ meta: { c: '4' } });
    expect((await t.req('PUT', `${base}/c`, { body: { meta: { d: '4' } } })).status).toBe(400);
    expect((await t.req('PUT', base, { body: { metadata: { k: 'v'.repeat(256) } } })).status).toBe(413);
    expect((await t.req('DELETE', `${base}/c`)).status).toBe(200);
    const missing = await t.req('GET', `${base}/c`);
    expect(missing.status).toBe(404);
    expect(missing.json.itemNotFound.message).toBe(`Volume ${id} has no metadata with key c.`);
  });

  it('deletes (202) and then 404s; refuses with snapshots unless cascade, which removes them too', async () => {
    const id = await makeVolume(t);
    const snap = await t.req('POST', `/v3/${P1}/snapshots`, { body: { snapshot: { volume_id: id } } });
    await t.waitFor('snapshots', snap.json.snapshot.id, 'available');
    const refused = await t.req('DELETE', `/v3/${P1}/volumes/${id}`);
    expect(refused.status).toBe(400);
    expect(refused.json.badRequest.message).toMatch(/have snapshots/);
    expect((await t.req('DELETE', `/v3/${P1}/volumes/${id}?cascade=maybe`)).status).toBe(400);
    expect((await t.req('DELETE', `/v3/${P1}/volumes/${id}?cascade=true`)).status).toBe(202);
    expect((await t.req('GET', `/v3/${P1}/volumes/${id}`)).status).toBe(404);
    await t.waitFor('snapshots', snap.json.snapshot.id, null);
  });

  it('clones a volume (source_volid) through a copy job, refusing a smaller size', async () => {
    const src = await makeVolume(t, { size: 2 });
    expect((await t.req('POST', `/v3/${P1}/volumes`, { body: { volume: { size: 1, source_volid: src } } })).status).toBe(400);
    const r = await t.req('POST', `/v3/${P1}/volumes`, { body: { volume: { source_volid: src } } });
    expect(r.status).toBe(202);
    const v = await t.waitFor('volumes', r.json.volume.id, 'available');
    expect(v!.size).toBe(2);
    expect(v!.source_volid).toBe(src);
  });
});

describe('os-set_bootable', () => {
  it("sets and clears the flag (200, Cinder's boolean strings too); a non-boolean, a missing or an extra key is 400", async () => {
    const id = await makeVolume(t);
    const act = (args: unknown) => t.req('POST', `/v3/${P1}/volumes/${id}/action`, { body: { 'os-set_bootable': args } });
    const set = await act({ bootable: true });
    expect(set.status).toBe(200);
    expect((await t.req('GET', `/v3/${P1}/volumes/${id}`)).json.volume.bootable).toBe('true');
    expect((await act({ bootable: 'False' })).status).toBe(200);
    expect((await t.req('GET', `/v3/${P1}/volumes/${id}`)).json.volume.bootable).toBe('false');
    for (const bad of [{ bootable: 'maybe' }, {}, { bootable: true, extra: 1 }, null]) {
      const r = await act(bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.json).toHaveProperty('badRequest');
    }
  });
});

describe('os-show_image_metadata', () => {
  it("is Cinder's 404 GlanceMetadataNotFound for a visible volume without image metadata, 404 itemNotFound for another project's", async () => {
    const id = await makeVolume(t);
    const r = await t.req('POST', `/v3/${P1}/volumes/${id}/action`, { body: { 'os-show_image_metadata': null } });
    expect(r.json).toEqual({ itemNotFound: { code: 404, message: `Glance metadata for volume/snapshot ${id} cannot be found.` } });
    const other = await t.req('POST', `/v3/${P2}/volumes/${id}/action`, { project: P2, body: { 'os-show_image_metadata': {} } });
    expect(other.json).toEqual({ itemNotFound: { code: 404, message: `Volume ${id} could not be found.` } });
  });
});

describe('metadata item count', () => {
  const items = (n: number, prefix = 'k') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v']));

  it('is bounded at 128 items per volume on the metadata routes with 413 "Maximum number of metadata items exceeds 128"; nothing is written', async () => {
    const id = await makeVolume(t);
    const big = await t.req('POST', `/v3/${P1}/volumes/${id}/metadata`, { body: { metadata: items(129) } });
    expect(big.status).toBe(413);
    expect(big.json.overLimit.message).toBe('Maximum number of metadata items exceeds 128');
    expect((await t.req('POST', `/v3/${P1}/volumes/${id}/metadata`, { body: { metadata: items(100) } })).status).toBe(200);
    const merged = await t.req('POST', `/v3/${P1}/volumes/${id}/metadata`, { body: { metadata: items(100, 'm') } });
    expect(merged.status).toBe(413);
    const now = await t.req('GET', `/v3/${P1}/volumes/${id}/metadata`);
    expect(Object.keys(now.json.metadata)).toHaveLength(100);
  });
});
