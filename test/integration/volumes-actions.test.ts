import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, P1, type VolumeTestApp, createVolumeTestApp, makeVolume } from './volumes-fixture.js';

let t: VolumeTestApp;
beforeAll(async () => {
  t = await createVolumeTestApp();
});
afterAll(async () => {
  await t?.close();
});

const SERVER = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const act = (id: string, body: unknown, opts: { version?: string; project?: string } = {}) =>
  t.req('POST', `/v3/${opts.project ?? P1}/volumes/${id}/action`, { body, ...opts });
const attach = (id: string) => act(id, { 'os-attach': { instance_uuid: SERVER, mountpoint: '/dev/vdb' } });

describe('volume actions', () => {
  it('extends an available volume (202) and refuses a size that does not grow', async () => {
    const id = await makeVolume(t);
    expect((await act(id, { 'os-extend': { new_size: 1 } })).status).toBe(400);
    expect((await act(id, { 'os-extend': { new_size: '3' } })).status).toBe(202);
    const v = await t.waitFor('volumes', id, 'available');
    expect(v!.size).toBe(3);
    expect((await act(id, { 'os-extend': { new_size: -2 } })).status).toBe(400);
  });

  it('refuses to extend an in-use volume below 3.42 and extends it (staying in-use) at 3.42', async () => {
    const id = await makeVolume(t);
    expect((await attach(id)).status).toBe(202);
    const below = await act(id, { 'os-extend': { new_size: 2 } }, { version: '3.41' });
    expect(below.status).toBe(400);
    expect(below.json.badRequest.message).toMatch(/status must be available/);
    expect((await act(id, { 'os-extend': { new_size: 2 } }, { version: '3.42' })).status).toBe(202);
    const v = await t.waitFor('volumes', id, 'in-use');
    expect(v!.size).toBe(2);
  });

  it('attaches (in-use with one attachment, host_name hidden from members) and detaches back to available', async () => {
    const id = await makeVolume(t);
    expect((await attach(id)).status).toBe(202);
    const v = await t.waitFor('volumes', id, 'in-use');
    const a = (v!.attachments as Array<Record<string, unknown>>)[0]!;
    expect(Object.keys(a).sort()).toEqual(['attached_at', 'attachment_id', 'device', 'host_name', 'id', 'server_id', 'volume_id']);
    expect(a.server_id).toBe(SERVER);
    expect(a.host_name).toBeNull();
    expect((await attach(id)).status).toBe(400);
    const del = await t.req('DELETE', `/v3/${P1}/volumes/${id}`);
    expect(del.status).toBe(400);
    expect((await act(id, { 'os-detach': {} })).status).toBe(202);
    const after = await t.waitFor('volumes', id, 'available');
    expect(after!.attachments).toEqual([]);
    expect((await act(id, { 'os-detach': {} })).status).toBe(400);
  });

  it('keeps admin actions admin-only (403 for members) and applies them for admins', async () => {
    const id = await makeVolume(t);
    const reset = await act(id, { 'os-reset_status': { status: 'error' } });
    expect(reset.status).toBe(403);
    expect(reset.json.forbidden.message).toMatch(/reset_status/);
    expect((await act(id, { 'os-force_delete': {} })).status).toBe(403);
    expect((await t.req('DELETE', `/v3/${P1}/volumes/${id}?force=true`, { version: '3.23' })).status).toBe(403);
    const adminVol = await makeVolume(t, {}, ADMIN);
    expect((await act(adminVol, { 'os-reset_status': { status: 'bogus' } }, { project: ADMIN })).status).toBe(400);
    expect((await act(adminVol, { 'os-reset_status': { status: 'error' } }, { project: ADMIN })).status).toBe(202);
    await t.waitFor('volumes', adminVol, 'error', ADMIN);
    expect((await act(adminVol, { 'os-force_delete': {} }, { project: ADMIN })).status).toBe(202);
    expect((await t.req('GET', `/v3/${ADMIN}/volumes/${adminVol}`, { project: ADMIN })).status).toBe(404);
  });

  it('refuses delete, extend, snapshot and attach of a volume that is backing-up or restoring-backup', async () => {
    for (const status of ['backing-up', 'restoring-backup']) {
      const id = await makeVolume(t);
      await t.deps.db.updateTable('volumes').set({ status }).where('id', '=', id).execute();
      expect((await t.req('DELETE', `/v3/${P1}/volumes/${id}`)).status, status).toBe(400);
      expect((await act(id, { 'os-extend': { new_size: 2 } }, { version: '3.42' })).status, status).toBe(400);
      expect((await attach(id)).status, status).toBe(400);
      expect((await t.req('POST', `/v3/${P1}/snapshots`, { body: { snapshot: { volume_id: id, force: true } } })).status, status).toBe(400);
    }
  });

  it('updates the readonly flag of an available volume, and rejects malformed action bodies', async () => {
    const id = await makeVolume(t);
    expect((await act(id, { 'os-update_readonly_flag': { readonly: 'yes' } })).status).toBe(202);
    expect((await act(id, { 'os-update_readonly_flag': { readonly: 'perhaps' } })).status).toBe(400);
    expect((await act(id, { 'os-extend': { new_size: 2 }, 'os-detach': {} })).status).toBe(400);
    const unknown = await act(id, { 'os-fly': {} });
    expect(unknown.status).toBe(400);
    expect(unknown.json.badRequest.message).toBe('There is no such action: os-fly');
  });
});
