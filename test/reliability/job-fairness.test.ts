import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupTestEnv, P1, P2, backupTestEnv, insertBackups, makeVolume } from '../integration/backups-fixtures.js';

/**
 * One project's queue of verify jobs does not hold up another project's backup: with the
 * worker's two slots busy with project A's verifies and more queued, project B's backup is
 * claimed at the next free slot, not after A's whole queue.
 */

const MiB = 1024 * 1024;
let env: BackupTestEnv;
beforeAll(async () => {
  // Small objects so a verify of 24 MiB takes a while (many objects, each hashed).
  env = await backupTestEnv({ BACKUP_OBJECT_SIZE: String(MiB), BACKUP_BLOCK_SIZE: '32768', BACKUP_COMPRESSION: 'none' }, true);
}, 120_000);
afterAll(async () => env?.close());

async function volumeWithData(project: string, bytes: number): Promise<string> {
  const vol = await makeVolume(env, project);
  const fh = await open(env.deps.volumes.volumePath(vol), 'r+');
  await fh.write(randomBytes(bytes), 0, bytes, 0);
  await fh.close();
  return vol;
}

async function timedBackup(project: string, vol: string): Promise<number> {
  const started = performance.now();
  const r = await env.call('POST', '/backups', project, { backup: { volume_id: vol } });
  expect(r.status).toBe(202);
  const done = await env.waitBackup(r.json.backup.id, project, (b) => b.status !== 'creating', 120_000);
  expect(done.status).toBe('available');
  return performance.now() - started;
}

describe('job fairness across projects', () => {
  it("a flood of one project's verify jobs delays another project's backup by about one job at most", async () => {
    const volA = await volumeWithData(P1, 24 * MiB);
    const first = await env.call('POST', '/backups', P1, { backup: { volume_id: volA } });
    const source = await env.waitBackup(first.json.backup.id, P1, (b) => b.status !== 'creating', 120_000);
    expect(source.status).toBe('available');
    const row = await env.t.db.selectFrom('backups').selectAll().where('id', '=', source.id).executeTakeFirstOrThrow();

    // Project A: twelve backups over the same stored objects, each verified once (one verify per backup).
    const copies = await insertBackups(
      env.t.db,
      Array.from({ length: 12 }, () => ({
        project_id: P1,
        volume_id: volA,
        container: row.container,
        service_metadata: row.service_metadata,
        service: row.service,
        object_count: row.object_count,
        stored_bytes: row.stored_bytes,
      })),
    );
    const volB = await volumeWithData(P2, 4 * MiB);
    const idle = await timedBackup(P2, volB);

    const verifyStarted = performance.now();
    for (const id of copies) expect((await env.call('POST', `/backups/${id}/action`, P1, { 'os-verify': {} })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    const underFlood = await timedBackup(P2, volB);
    const left = await env.t.db
      .selectFrom('jobs')
      .select('id')
      .where('kind', '=', 'verify')
      .where('status', 'in', ['queued', 'running'])
      .execute();

    // How long one verify takes, from the whole flood (two slots).
    for (let i = 0; i < 1200; i++) {
      const n = await env.t.db
        .selectFrom('jobs')
        .select('id')
        .where('kind', '=', 'verify')
        .where('status', 'in', ['queued', 'running'])
        .execute();
      if (n.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const perVerify = ((performance.now() - verifyStarted) / copies.length) * 2;
    console.log(
      `project B backup: idle queue ${idle.toFixed(0)} ms; behind ${copies.length} verify jobs of project A ${underFlood.toFixed(0)} ms ` +
        `(${left.length} verifies still queued or running when it finished; one verify takes about ${perVerify.toFixed(0)} ms per slot)`,
    );
    // B waited for at most one of A's jobs (a slot), not for A's queue.
    expect(left.length).toBeGreaterThanOrEqual(copies.length - 4);
    expect(underFlood).toBeLessThan(idle + 2 * perVerify + 2000);
  }, 300_000);
});
