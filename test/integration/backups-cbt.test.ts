import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, open, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeTracker } from '../../src/volumes/change-tracker.js';
import { GiB } from '../../src/volumes/volume-backend.js';
import { type BackupTestEnv, P1, backupTestEnv, makeSnapshot, makeVolume, runJob } from './backups-fixtures.js';

/**
 * Changed-block tracking through the backup job (real Postgres, posix store, file volumes): an
 * incremental reads only what the service wrote since its parent, and each reason to doubt the
 * change map falls back to reading and hashing the whole volume. `progress_bytes_read` of the
 * backup row is what the engine read from the volume.
 */

const BLOCK = 32 * 1024;
const MiB = 1024 * 1024;

describe('changed-block tracking in backup jobs', { timeout: 600_000 }, () => {
  let env: BackupTestEnv;
  beforeAll(async () => {
    env = await backupTestEnv({ BACKUP_OBJECT_SIZE: String(8 * MiB), QUOTA_BACKUPS: '-1', QUOTA_VOLUMES: '-1' });
  });
  afterAll(async () => env.close());

  const put = async (vol: string, offset: number, body: Buffer) => {
    const r = await env.app.inject({
      method: 'PUT',
      url: `/v3/${P1}/volumes/${vol}/data`,
      headers: {
        'x-auth-token': `u${P1.slice(0, 7)}:${P1}`,
        'content-type': 'application/octet-stream',
        'content-range': `bytes ${offset}-${offset + body.length - 1}/*`,
      },
      payload: body,
    });
    expect(r.statusCode).toBe(204);
  };
  const backup = async (vol: string, extra: Record<string, unknown> = {}) => {
    const r = await env.call('POST', '/backups', P1, { backup: { volume_id: vol, ...extra } });
    expect(r.status).toBe(202);
    const id = r.json.backup.id as string;
    await runJob(env, 'backup', id);
    const row = await env.t.db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.status).toBe('available');
    return row;
  };
  const path = (vol: string) => env.deps.volumes.volumePath(vol);
  const verdict = async (vol: string, parent: string) => (await env.deps.volumes.changedBlocks(vol, parent, GiB, BLOCK)).fallback;

  /** A volume with data in a few places and its first full backup (which resets the map). */
  const volumeWithFull = async () => {
    const vol = await makeVolume(env, P1);
    await put(vol, 0, randomBytes(2 * MiB));
    await put(vol, 300 * MiB, randomBytes(MiB));
    const full = await backup(vol);
    expect(full.progress_bytes_read).toBe(GiB);
    return { vol, full: full.id };
  };
  /** One change through the service, then an incremental: the bytes it read. */
  const changeAndIncrement = async (vol: string) => {
    await put(vol, 700 * MiB + 100, randomBytes(40_000));
    const inc = await backup(vol, { incremental: true });
    return inc;
  };
  const sha = (file: string) =>
    new Promise<string>((resolve, reject) => {
      const h = createHash('sha256');
      createReadStream(file, { highWaterMark: 8 * MiB })
        .on('data', (d) => h.update(d))
        .on('end', () => resolve(h.digest('hex')))
        .on('error', reject);
    });

  it('uses the map: an incremental after data-extension writes reads only their blocks and restores byte-identical', async () => {
    const { vol, full } = await volumeWithFull();
    expect(await verdict(vol, full)).toBeNull();
    await put(vol, 5 * MiB + 10, randomBytes(10)); // 1 block
    await put(vol, 64 * MiB - 100, randomBytes(200)); // straddles two blocks
    const inc = await changeAndIncrement(vol); // 40,000 bytes at 100 bytes into a block: 2 blocks
    expect(inc.parent_id).toBe(full);
    expect(inc.progress_bytes_read).toBe(5 * BLOCK);
    // The map now counts from the incremental: nothing changed since.
    const map = await env.deps.volumes.changedBlocks(vol, inc.id, GiB, BLOCK);
    expect(map.changed?.every((b) => b === 0)).toBe(true);
    const target = await makeVolume(env, P1);
    expect((await env.call('POST', `/backups/${inc.id}/restore`, P1, { restore: { volume_id: target } })).status).toBe(202);
    await runJob(env, 'restore', inc.id);
    expect(await sha(path(target))).toBe(await sha(path(vol)));
  });

  it('falls back when the map is missing', async () => {
    const { vol, full } = await volumeWithFull();
    await rm(`${path(vol)}.cbt`);
    expect(await verdict(vol, full)).toBe('missing');
    expect((await changeAndIncrement(vol)).progress_bytes_read).toBe(GiB);
    // ...and that backup starts a new map.
    const again = await changeAndIncrement(vol);
    expect(again.progress_bytes_read).toBe(2 * BLOCK);
  });

  it('falls back when the map is of another generation (another block size)', async () => {
    const { vol, full } = await volumeWithFull();
    const other = new ChangeTracker(64 * 1024);
    await other.startNew(path(vol), vol, GiB);
    await other.resetAfterBackup(path(vol), vol, full, await env.deps.volumes.volumeStamp(vol));
    expect(await verdict(vol, full)).toBe('other generation');
    expect((await changeAndIncrement(vol)).progress_bytes_read).toBe(GiB);
  });

  it('falls back when the volume file changed behind the service (mtime; inode with size and mtime kept)', async () => {
    const { vol, full } = await volumeWithFull();
    // Inode: the same bytes under a new inode, size and mtime put back as they were.
    const before = await stat(path(vol));
    await copyFile(path(vol), `${path(vol)}.copy`);
    await rename(`${path(vol)}.copy`, path(vol));
    await utimes(path(vol), before.atime, before.mtime);
    const after = await stat(path(vol), { bigint: true });
    expect(after.size).toBe(BigInt(before.size));
    expect(await verdict(vol, full)).toBe('file changed outside the service');
    // Contents: a write that bypasses the service.
    const fh = await open(path(vol), 'r+');
    await fh.write(randomBytes(MiB), 0, MiB, 900 * MiB);
    await fh.close();
    expect(await verdict(vol, full)).toBe('file changed outside the service');
    const inc = await changeAndIncrement(vol);
    expect(inc.progress_bytes_read).toBe(GiB);
    // The full read saw the bypassing write: a restore holds it.
    const target = await makeVolume(env, P1);
    await env.call('POST', `/backups/${inc.id}/restore`, P1, { restore: { volume_id: target } });
    await runJob(env, 'restore', inc.id);
    expect(await sha(path(target))).toBe(await sha(path(vol)));
  });

  it('falls back after a crash between the data write and the map update (a killed process)', async () => {
    const { vol, full } = await volumeWithFull();
    // A separate process writes through the tracker and is SIGKILLed right after its data write.
    const script = join(env.dataDir, 'crash-writer.mts');
    const backend = new URL('../../src/volumes/file-backend.ts', import.meta.url).href;
    await writeFile(
      script,
      `import { open } from 'node:fs/promises';
import { FileVolumeBackend } from ${JSON.stringify(backend)};
const v = new FileVolumeBackend(${JSON.stringify(env.dataDir)});
await v.trackWrite(${JSON.stringify(vol)}, ${500 * MiB}, 4096, async () => {
  const fh = await open(v.volumePath(${JSON.stringify(vol)}), 'r+');
  await fh.write(Buffer.alloc(4096, 7), 0, 4096, ${500 * MiB});
  await fh.sync();
  process.kill(process.pid, 'SIGKILL');
});
`,
    );
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8' });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    expect(await verdict(vol, full)).toBe('interrupted write');
    expect((await changeAndIncrement(vol)).progress_bytes_read).toBe(GiB);
  });

  it('falls back when the parent is not the backup that reset the map (a snapshot backup in between)', async () => {
    const { vol, full } = await volumeWithFull();
    await put(vol, 10 * MiB, randomBytes(MiB));
    const snap = await makeSnapshot(env, P1, vol);
    const fromSnap = await backup(vol, { snapshot_id: snap, incremental: true });
    expect(fromSnap.parent_id).toBe(full);
    expect(await verdict(vol, fromSnap.id)).toBe('parent is not the reset backup');
    const inc = await changeAndIncrement(vol);
    expect(inc.parent_id).toBe(fromSnap.id);
    expect(inc.progress_bytes_read).toBe(GiB);
  });

  it('a restore into the volume and a clone of it mark every block changed', async () => {
    const { vol, full } = await volumeWithFull();
    await put(vol, 0, randomBytes(MiB));
    expect((await env.call('POST', `/backups/${full}/restore`, P1, { restore: { volume_id: vol } })).status).toBe(202);
    await runJob(env, 'restore', full);
    const map = await env.deps.volumes.changedBlocks(vol, full, GiB, BLOCK);
    expect(map.fallback).toBeNull();
    expect(map.changed?.every((b) => b === 1)).toBe(true);
    // A clone's map has never been reset: its first incremental would read everything.
    const clone = await makeVolume(env, P1);
    await env.deps.volumes.deleteVolume(clone);
    await env.deps.volumes.createVolumeFromVolume(clone, vol, GiB);
    expect(await verdict(clone, full)).toBe('never reset');
  });
});
