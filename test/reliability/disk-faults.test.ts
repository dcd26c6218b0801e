import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P1, makeVolume } from '../integration/backups-fixtures.js';
import { startApiWorld, writeAt, type ApiWorld } from './api-world.js';

/**
 * A full backup store (a 4 MiB tmpfs under the posix store) and unwritable volume and snapshot
 * directories (`chattr +i`: chmod does not stop root): operations end in `error` with a clear
 * reason, nothing stays busy, sources go back to `available`, and nothing is left half-written.
 * Needs root and mount/chattr; skipped where the machine does not allow them.
 */
function canMountAndChattr(): boolean {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), 'rel-cap-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(dir);
  }
}

const allowed = canMountAndChattr();
let w: ApiWorld;
let storeDir: string;
const immutable: string[] = [];
const chattr = (flag: '+i' | '-i', path: string) => execFileSync('chattr', [flag, path]);

async function settled(table: 'volumes' | 'snapshots' | 'backups', id: string): Promise<{ status: string; fail_reason?: string | null }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const row = await w.env.t.db.selectFrom(table).selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    if (!['creating', 'restoring-backup', 'backing-up', 'restoring', 'deleting'].includes(row.status)) return row as { status: string };
    if (Date.now() > deadline) throw new Error(`${table} ${id} stuck in ${row.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!allowed)('disk full and unwritable directories', () => {
  beforeAll(async () => {
    w = await startApiWorld();
    storeDir = join(w.env.dataDir, 'backups', 'volumebackups', 'full');
  }, 120_000);
  afterAll(async () => {
    for (const p of immutable.splice(0)) chattr('-i', p);
    try {
      execFileSync('umount', [join(w.env.dataDir, 'backups')], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
    await w?.env.close();
  });

  it('a backup that fills the store fails with a clear reason, frees the volume, and leaves no objects', async () => {
    const backups = join(w.env.dataDir, 'backups');
    mkdirSync(backups, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', backups]);
    expect(storeDir).toContain(backups);
    const vol = await makeVolume(w.env, P1, { size: 1 });
    await writeAt(w.env.deps.volumes.volumePath(vol), 0, randomBytes(16 * 1024 * 1024)); // incompressible, > 4 MiB
    const r = await w.env.call('POST', '/backups', P1, { backup: { volume_id: vol, name: 'too-big' } });
    expect(r.status).toBe(202);
    const b = await settled('backups', r.json.backup.id);
    expect(b.status).toBe('error');
    expect(b.fail_reason).toMatch(/ENOSPC|no space|posix put/i);
    expect((await settled('volumes', vol)).status).toBe('available');
    const prefix = (
      await w.env.t.db.selectFrom('backups').select('service_metadata').where('id', '=', r.json.backup.id).executeTakeFirstOrThrow()
    ).service_metadata;
    // Deleting the failed backup removes what it managed to write.
    const d = await w.env.call('DELETE', `/backups/${r.json.backup.id}`, P1);
    expect(d.status).toBe(202);
    expect((await settled('backups', r.json.backup.id)).status).toBe('deleted');
    if (prefix) expect(await w.env.deps.store.list('volumebackups', prefix)).toEqual([]);
    execFileSync('umount', [backups]);
  }, 120_000);

  it('with the volume and snapshot directories unwritable, creates, snapshots and restores end in error, sources stay available', async () => {
    const volumesDir = join(w.env.dataDir, 'volumes');
    const snapshotsDir = join(w.env.dataDir, 'snapshots');
    for (const p of [volumesDir, snapshotsDir]) chattr('+i', p), immutable.push(p);
    const v = await w.env.call('POST', '/volumes', P1, { volume: { size: 1, name: 'nowhere' } });
    expect(v.status).toBe(202);
    expect((await settled('volumes', v.json.volume.id)).status).toBe('error');

    const s = await w.env.call('POST', '/snapshots', P1, { snapshot: { volume_id: w.volumeId, name: 'nowhere' } });
    expect(s.status).toBe(202);
    expect((await settled('snapshots', s.json.snapshot.id)).status).toBe('error');
    expect((await settled('volumes', w.volumeId)).status).toBe('available');

    const before = readdirSync(volumesDir).length;
    const r = await w.env.call('POST', `/backups/${w.backupId}/restore`, P1, { restore: { name: 'nowhere' } });
    expect(r.status).toBe(202);
    expect(['error', 'error_restoring']).toContain((await settled('volumes', r.json.restore.volume_id)).status);
    expect((await settled('backups', w.backupId)).status).toBe('available');
    expect(readdirSync(volumesDir).length).toBe(before);

    // The data extension on a volume whose file is immutable: a fault, not a hang or a crash.
    const file = w.env.deps.volumes.volumePath(w.volumeId);
    chattr('+i', file);
    immutable.push(file);
    const put = await w.env.app.inject({
      method: 'PUT',
      url: `/v3/${P1}/volumes/${w.volumeId}/data`,
      headers: { 'x-auth-token': `u:${P1}`, 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(4096, 1),
    });
    expect(put.statusCode).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(put.body)).toBeTypeOf('object');
    for (const p of immutable.splice(0)) chattr('-i', p);
  }, 200_000);
});
