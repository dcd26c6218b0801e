import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GiB } from '../../src/volumes/volume-backend.js';
import { P1, P2, type VolumeTestApp, createVolumeTestApp, makeVolume } from './volumes-fixture.js';

const MiB = 1024 * 1024;
let t: VolumeTestApp;
beforeAll(async () => {
  t = await createVolumeTestApp();
});
afterAll(async () => {
  await t?.close();
});

const put = (id: string, data: Buffer, headers: Record<string, string> = {}, project = P1) =>
  t.req('PUT', `/v3/${project}/volumes/${id}/data`, {
    project,
    body: data,
    headers: { 'content-type': 'application/octet-stream', ...headers },
  });
const get = (id: string, headers: Record<string, string> = {}, project = P1) =>
  t.req('GET', `/v3/${project}/volumes/${id}/data`, { project, headers });

describe('volume data extension', () => {
  it('keeps a snapshot point-in-time: bytes written, snapshotted, overwritten, read back unchanged through a volume made from the snapshot', async () => {
    const vol = await makeVolume(t);
    const known = randomBytes(3 * MiB);
    expect((await put(vol, known, { 'content-range': `bytes ${5 * MiB}-${8 * MiB - 1}/*` })).status).toBe(204);
    const snap = await t.req('POST', `/v3/${P1}/snapshots`, { body: { snapshot: { volume_id: vol, name: 's1' } } });
    expect(snap.status).toBe(202);
    const snapView = await t.waitFor('snapshots', snap.json.snapshot.id, 'available');
    expect(snapView!['os-extended-snapshot-attributes:progress']).toBe('100%');
    expect((await put(vol, randomBytes(3 * MiB), { 'content-range': `bytes ${5 * MiB}-${8 * MiB - 1}/*` })).status).toBe(204);

    const clone = await t.req('POST', `/v3/${P1}/volumes`, { body: { volume: { snapshot_id: snap.json.snapshot.id } } });
    expect(clone.status).toBe(202);
    expect(clone.json.volume.size).toBe(1);
    await t.waitFor('volumes', clone.json.volume.id, 'available');
    const back = await get(clone.json.volume.id, { range: `bytes=${5 * MiB}-${8 * MiB - 1}` });
    expect(back.status).toBe(206);
    expect(back.headers['content-range']).toBe(`bytes ${5 * MiB}-${8 * MiB - 1}/${GiB}`);
    expect(back.raw.equals(known)).toBe(true);
    const current = await get(vol, { range: `bytes=${5 * MiB}-${8 * MiB - 1}` });
    expect(current.raw.equals(known)).toBe(false);
  });

  it('keeps a 10 GiB volume sparse: 1 MiB written uses about 1 MiB on disk', async () => {
    const vol = await makeVolume(t, { size: 10 });
    expect((await put(vol, randomBytes(MiB), { 'content-range': `bytes ${7 * GiB}-${7 * GiB + MiB - 1}/*` })).status).toBe(204);
    const st = await stat(t.deps.volumes.volumePath(vol));
    expect(st.size).toBe(10 * GiB);
    expect(st.blocks * 512).toBeGreaterThanOrEqual(MiB);
    expect(st.blocks * 512).toBeLessThan(2 * MiB);
  });

  it('streams the whole volume without Range (200, Content-Length = size) and writes from offset 0 without Content-Range', async () => {
    const vol = await makeVolume(t);
    expect((await put(vol, Buffer.from('hello world'))).status).toBe(204);
    const whole = await t.app.inject({
      method: 'GET',
      url: `/v3/${P1}/volumes/${vol}/data`,
      headers: { 'x-auth-token': `u:${P1}` },
      payloadAsStream: true,
    });
    expect(whole.statusCode).toBe(200);
    expect(Number(whole.headers['content-length'])).toBe(GiB);
    let total = 0;
    let head = Buffer.alloc(0);
    for await (const chunk of whole.stream()) {
      if (head.length < 11) head = Buffer.concat([head, chunk as Buffer]);
      total += (chunk as Buffer).length;
    }
    expect(total).toBe(GiB);
    expect(head.subarray(0, 11).toString()).toBe('hello world');
    const tail = await get(vol, { range: 'bytes=-4' });
    expect(tail.status).toBe(206);
    expect(tail.raw).toEqual(Buffer.alloc(4));
  });

  it('answers 416 with bytes */size for a range past the end and 400 for garbage ranges', async () => {
    const vol = await makeVolume(t);
    const r = await get(vol, { range: `bytes=${GiB}-` });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe(`bytes */${GiB}`);
    for (const bad of ['bytes=abc', 'bytes=-', 'bytes=10-5', 'items=0-1', 'bytes=-1-2']) {
      const g = await get(vol, { range: bad });
      expect(g.status, bad).toBe(400);
      expect(g.json.badRequest.code).toBe(400);
    }
  });

  it('refuses writes that would run past the end of the volume or whose range is malformed', async () => {
    const vol = await makeVolume(t);
    const past = await put(vol, Buffer.alloc(10), { 'content-range': `bytes ${GiB - 5}-${GiB + 4}/*` });
    expect(past.status).toBe(400);
    expect(past.json.badRequest.message).toMatch(/does not fit/);
    for (const bad of ['bytes -1-5/*', 'bytes 5-1/*', 'garbage', 'bytes 0-9']) {
      expect((await put(vol, Buffer.alloc(10), { 'content-range': bad })).status, bad).toBe(400);
    }
    const mismatch = await put(vol, Buffer.alloc(10), { 'content-range': 'bytes 0-19/*' });
    expect(mismatch.status).toBe(400);
    const st = await stat(t.deps.volumes.volumePath(vol));
    expect(st.size).toBe(GiB);
  });

  it("hides another project's volume (404) and refuses volumes that are not available (400)", async () => {
    const vol = await makeVolume(t);
    expect((await get(vol, {}, P2)).status).toBe(404);
    expect((await put(vol, Buffer.from('x'), {}, P2)).status).toBe(404);
    const att = await t.req('POST', `/v3/${P1}/volumes/${vol}/action`, {
      body: { 'os-attach': { instance_uuid: '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', mountpoint: '/dev/vdb' } },
    });
    expect(att.status).toBe(202);
    const r = await get(vol);
    expect(r.status).toBe(400);
    expect(r.json.badRequest.message).toMatch(/must be available/);
  });

  it('rejects a PUT body that is not application/octet-stream with 415', async () => {
    const vol = await makeVolume(t);
    const r = await t.req('PUT', `/v3/${P1}/volumes/${vol}/data`, { body: { a: 1 } });
    expect(r.status).toBe(415);
  });
});
