import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupTestEnv, type BackupTestEnv, makeVolume as insertVolume, P1 as BP1 } from './backups-fixtures.js';
import { ADMIN, P1, P2, type VolumeTestApp, createVolumeTestApp, makeVolume } from './volumes-fixture.js';

// Image (Glance) metadata on volumes, as cinder/api/contrib/volume_image_metadata.py: the
// os-set/unset/show_image_metadata actions, `volume_image_metadata` in show and detail, and the
// copies Cinder makes (snapshot of a bootable volume -> volume from it, clone, backup -> restore).
let t: VolumeTestApp;
beforeAll(async () => {
  t = await createVolumeTestApp();
});
afterAll(async () => {
  await t?.close();
});

const act = (id: string, body: unknown, project = P1) => t.req('POST', `/v3/${project}/volumes/${id}/action`, { project, body });
const notFoundBody = (id: string) => ({
  itemNotFound: { code: 404, message: `Glance metadata for volume/snapshot ${id} cannot be found.` },
});

describe('os-set_image_metadata, os-show_image_metadata, os-unset_image_metadata', () => {
  it('sets (200, the whole map), shows it, lists it in show and detail only, unsets a key (200, empty)', async () => {
    const id = await makeVolume(t);
    const plain = await t.req('GET', `/v3/${P1}/volumes/${id}`);
    expect(plain.json.volume).not.toHaveProperty('volume_image_metadata');

    const set = await act(id, { 'os-set_image_metadata': { metadata: { os_distro: 'debian', hw_disk_bus: 'scsi' } } });
    expect(set.status).toBe(200);
    expect(set.json).toEqual({ metadata: { os_distro: 'debian', hw_disk_bus: 'scsi' } });
    const more = await act(id, { 'os-set_image_metadata': { metadata: { os_distro: 'ubuntu', 'a b:c.d/e-f_g': 'x' } } });
    expect(more.json).toEqual({ metadata: { os_distro: 'ubuntu', hw_disk_bus: 'scsi', 'a b:c.d/e-f_g': 'x' } });

    const shown = await act(id, { 'os-show_image_metadata': null });
    expect(shown.status).toBe(200);
    expect(shown.json).toEqual(more.json);
    const vol = await t.req('GET', `/v3/${P1}/volumes/${id}`);
    expect(vol.json.volume.volume_image_metadata).toEqual(more.json.metadata);
    expect(vol.json.volume.metadata).toEqual({});
    const detail = await t.req('GET', `/v3/${P1}/volumes/detail`);
    expect(detail.json.volumes.find((v: any) => v.id === id).volume_image_metadata).toEqual(more.json.metadata);
    const summary = await t.req('GET', `/v3/${P1}/volumes`);
    expect(summary.json.volumes.find((v: any) => v.id === id)).not.toHaveProperty('volume_image_metadata');

    const unset = await act(id, { 'os-unset_image_metadata': { key: 'hw_disk_bus' } });
    expect(unset.status).toBe(200);
    expect(unset.raw.length).toBe(0);
    expect((await act(id, { 'os-show_image_metadata': {} })).json).toEqual({ metadata: { os_distro: 'ubuntu', 'a b:c.d/e-f_g': 'x' } });
  });

  it("answers Cinder's 404 GlanceMetadataNotFound for a missing key and for a volume with none; 404 itemNotFound for another project's", async () => {
    const id = await makeVolume(t);
    expect((await act(id, { 'os-show_image_metadata': null })).json).toEqual(notFoundBody(id));
    expect((await act(id, { 'os-unset_image_metadata': { key: 'k' } })).json).toEqual(notFoundBody(id));
    await act(id, { 'os-set_image_metadata': { metadata: { k: 'v' } } });
    const missing = await act(id, { 'os-unset_image_metadata': { key: 'other' } });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual(notFoundBody(id));
    const volumeGone = { itemNotFound: { code: 404, message: `Volume ${id} could not be found.` } };
    for (const body of [
      { 'os-show_image_metadata': null },
      { 'os-set_image_metadata': { metadata: { x: 'y' } } },
      { 'os-unset_image_metadata': { key: 'k' } },
    ]) {
      expect((await act(id, body, P2)).json, JSON.stringify(body)).toEqual(volumeGone);
    }
    expect((await act(id, { 'os-show_image_metadata': null })).json).toEqual({ metadata: { k: 'v' } });
  });

  it("validates as Cinder's schema: key pattern, string values up to 65,535 bytes, required and extra keys (400 badRequest)", async () => {
    const id = await makeVolume(t);
    const bad = async (body: unknown, message: string | RegExp) => {
      const r = await act(id, body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.json.badRequest.message).toMatch(message);
    };
    await bad(
      { 'os-set_image_metadata': { metadata: { 'k@y': 'v' } } },
      /^Invalid input for field\/attribute metadata\. .*Additional properties are not allowed \('k@y' was unexpected\)/,
    );
    await bad({ 'os-set_image_metadata': { metadata: { ['k'.repeat(256)]: 'v' } } }, /Additional properties are not allowed/);
    await bad({ 'os-set_image_metadata': { metadata: { '': 'v' } } }, /Additional properties are not allowed \(''/);
    await bad(
      { 'os-set_image_metadata': { metadata: { k: 1 } } },
      "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'",
    );
    await bad({ 'os-set_image_metadata': { metadata: { k: 'é'.repeat(32768) } } }, /is not a 'mysql_text'$/);
    await bad({ 'os-set_image_metadata': {} }, "'metadata' is a required property");
    await bad({ 'os-set_image_metadata': { metadata: {}, extra: 1 } }, /Additional properties are not allowed \('extra' was unexpected\)/);
    await bad({ 'os-unset_image_metadata': {} }, "'key' is a required property");
    await bad({ 'os-unset_image_metadata': { key: '' } }, "'' is too short");
    await bad({ 'os-unset_image_metadata': { key: 'k'.repeat(256) } }, /is too long$/);
    await bad({ 'os-unset_image_metadata': 'k' }, /is not of type 'object'/);
    // 65,535 bytes is still a 'mysql_text'.
    const big = await act(id, { 'os-set_image_metadata': { metadata: { k: 'x'.repeat(65535) } } });
    expect(big.status).toBe(200);
    expect(big.json.metadata.k).toHaveLength(65535);
  });

  it('bounds the map at 128 items (413, nothing written) and refuses changes in maintenance (400 Invalid volume)', async () => {
    const id = await makeVolume(t);
    const items = (n: number, p: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${p}${i}`, 'v']));
    expect((await act(id, { 'os-set_image_metadata': { metadata: items(100, 'a') } })).status).toBe(200);
    const over = await act(id, { 'os-set_image_metadata': { metadata: items(29, 'b') } });
    expect(over.status).toBe(413);
    expect(over.json.overLimit.message).toBe('Maximum number of metadata items exceeds 128');
    expect(Object.keys((await act(id, { 'os-show_image_metadata': null })).json.metadata)).toHaveLength(100);

    await t.req('POST', `/v3/${ADMIN}/volumes/${id}/action`, { project: ADMIN, body: { 'os-reset_status': { status: 'maintenance' } } });
    const frozen = await act(id, { 'os-set_image_metadata': { metadata: { k: 'v' } } });
    expect(frozen.json).toEqual({
      badRequest: { code: 400, message: 'Invalid volume: Updating volume metadata is not allowed for volumes in maintenance status.' },
    });
    const frozenUnset = await act(id, { 'os-unset_image_metadata': { key: 'a0' } });
    expect(frozenUnset.json.badRequest.message).toBe(
      'Invalid volume: Deleting volume metadata is not allowed for volumes in maintenance status.',
    );
  });
});

describe('image metadata follows copies as in Cinder', () => {
  it('a snapshot of a bootable volume keeps it: the volume made from the snapshot has it and is bootable; later changes to the source do not leak', async () => {
    const src = await makeVolume(t);
    await act(src, { 'os-set_bootable': { bootable: true } });
    await act(src, { 'os-set_image_metadata': { metadata: { os_distro: 'debian' } } });
    const snap = await t.req('POST', `/v3/${P1}/snapshots`, { body: { snapshot: { volume_id: src } } });
    await t.waitFor('snapshots', snap.json.snapshot.id, 'available');
    await act(src, { 'os-set_image_metadata': { metadata: { later: 'yes' } } });
    const made = await t.req('POST', `/v3/${P1}/volumes`, { body: { volume: { snapshot_id: snap.json.snapshot.id } } });
    const v = await t.waitFor('volumes', made.json.volume.id, 'available');
    expect(v).toMatchObject({ bootable: 'true', volume_image_metadata: { os_distro: 'debian' } });
  });

  it('a clone of a bootable volume copies it; a clone of a non-bootable one does not (Cinder copies only from bootable sources)', async () => {
    const src = await makeVolume(t);
    await act(src, { 'os-set_image_metadata': { metadata: { os_distro: 'debian' } } });
    const plain = await t.req('POST', `/v3/${P1}/volumes`, { body: { volume: { source_volid: src } } });
    const p = await t.waitFor('volumes', plain.json.volume.id, 'available');
    expect(p!.bootable).toBe('false');
    expect(p).not.toHaveProperty('volume_image_metadata');
    await act(src, { 'os-set_bootable': { bootable: true } });
    const clone = await t.req('POST', `/v3/${P1}/volumes`, { body: { volume: { source_volid: src } } });
    const c = await t.waitFor('volumes', clone.json.volume.id, 'available');
    expect(c).toMatchObject({ bootable: 'true', volume_image_metadata: { os_distro: 'debian' } });
  });
});

describe('image metadata in a backup', () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    env = await backupTestEnv({}, true);
  });
  afterAll(async () => env?.close());

  it("is stored in the backup's volume_meta and restored: the new volume has it and is bootable; a restore over an existing volume replaces its own", async () => {
    const src = await insertVolume(env, BP1);
    const set = await env.call('POST', `/volumes/${src}/action`, BP1, {
      'os-set_image_metadata': { metadata: { os_distro: 'debian', k: 'v' } },
    });
    expect(set.status).toBe(200);
    const b = await env.call('POST', '/backups', BP1, { backup: { volume_id: src } });
    await env.waitBackup(b.json.backup.id, BP1, (x) => x.status === 'available');
    const restored = await env.call('POST', `/backups/${b.json.backup.id}/restore`, BP1, { restore: {} });
    const newId = restored.json.restore.volume_id as string;
    await env.waitBackup(b.json.backup.id, BP1, (x) => x.status === 'available');
    const waitVolume = async (id: string) => {
      for (let i = 0; i < 400; i++) {
        const r = await env.call('GET', `/volumes/${id}`, BP1);
        if (r.json.volume.status === 'available') return r.json.volume;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`volume ${id} not available`);
    };
    expect(await waitVolume(newId)).toMatchObject({ bootable: 'true', volume_image_metadata: { os_distro: 'debian', k: 'v' } });

    const target = await insertVolume(env, BP1);
    await env.call('POST', `/volumes/${target}/action`, BP1, { 'os-set_image_metadata': { metadata: { own: 'gone after restore' } } });
    await env.call('POST', `/backups/${b.json.backup.id}/restore`, BP1, { restore: { volume_id: target } });
    await env.waitBackup(b.json.backup.id, BP1, (x) => x.status === 'available');
    const over = await waitVolume(target);
    expect(over.volume_image_metadata).toEqual({ os_distro: 'debian', k: 'v' });
  });
});
