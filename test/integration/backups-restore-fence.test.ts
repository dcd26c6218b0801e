import { open, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupTestEnv, P1, backupTestEnv, makeVolume } from './backups-fixtures.js';

/**
 * A restore into a volume is fenced against data uploads into it: an upload already running
 * finishes before the restore writes, so no byte of it lands on the restored data.
 */

let env: BackupTestEnv;
let port: number;
beforeAll(async () => {
  env = await backupTestEnv({}, true);
  await env.app.listen({ host: '127.0.0.1', port: 0 });
  port = (env.app.server.address() as AddressInfo).port;
}, 120_000);
afterAll(async () => env?.close());

/** PUT `data` at offset 0, one byte every `everyMs`; resolves with the answer's status line. */
function slowPut(volume: string, data: string, everyMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.write(
      `PUT /v3/${P1}/volumes/${volume}/data HTTP/1.1\r\nHost: x\r\nX-Auth-Token: u:${P1}\r\n` +
        `Content-Type: application/octet-stream\r\nContent-Length: ${data.length}\r\nConnection: close\r\n\r\n`,
    );
    let i = 0;
    const timer = setInterval(() => {
      if (i < data.length) socket.write(data[i++]!);
      else clearInterval(timer);
    }, everyMs);
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve(answer.split('\r\n')[0] ?? '');
    });
    socket.on('error', reject);
  });
}

describe('restore fenced against data uploads', () => {
  it('an upload running when a restore into the volume starts cannot write over the restored data', async () => {
    const vol = await makeVolume(env, P1);
    const fh = await open(env.deps.volumes.volumePath(vol), 'r+');
    await fh.write(Buffer.alloc(16, 0x41), 0, 16, 0);
    await fh.close();
    const created = await env.call('POST', '/backups', P1, { backup: { volume_id: vol } });
    const id = created.json.backup.id;
    expect((await env.waitBackup(id, P1, (b) => b.status !== 'creating')).status).toBe('available');
    const backedUp = (await readFile(env.deps.volumes.volumePath(vol))).subarray(0, 16);

    // The probe's race: a slow PUT of 8 bytes at 0-7, and 1 s later a restore into the same volume.
    const put = slowPut(vol, 'ZZZZZZZZ', 300);
    await new Promise((r) => setTimeout(r, 1000));
    const restore = await env.call('POST', `/backups/${id}/restore`, P1, { restore: { volume_id: vol } });
    expect(restore.status).toBe(202);
    // Meanwhile nothing else may write into it.
    const during = await env.app.inject({
      method: 'PUT',
      url: `/v3/${P1}/volumes/${vol}/data`,
      headers: { 'x-auth-token': `u:${P1}`, 'content-type': 'application/octet-stream' },
      payload: Buffer.from('YYYY'),
    });
    expect([400, 409]).toContain(during.statusCode);
    expect(await put).toMatch(/^HTTP\/1\.1 204/);
    await env.waitBackup(id, P1, (b) => b.status === 'available');
    for (let i = 0; i < 200; i++) {
      const v = await env.t.db.selectFrom('volumes').select('status').where('id', '=', vol).executeTakeFirstOrThrow();
      if (v.status === 'available') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const head = (await readFile(env.deps.volumes.volumePath(vol))).subarray(0, 16);
    expect(head.toString('hex')).toBe(backedUp.toString('hex'));
  }, 120_000);
});
