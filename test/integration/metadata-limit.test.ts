import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupTestEnv, P1, backupTestEnv, insertBackups, makeSnapshot, makeVolume } from './backups-fixtures.js';

/**
 * The metadata item bound (128, Cinder's 413 "Maximum number of metadata items exceeds 128")
 * holds on every path that writes metadata, not only the metadata routes: each create of a
 * volume (blank, from a snapshot, a clone, from a backup), snapshot and backup, the updates, and
 * a single key PUT that would add the 129th item. 128 items pass on each path; nothing is written
 * by a refused request.
 */
let env: BackupTestEnv;
beforeAll(async () => {
  env = await backupTestEnv();
});
afterAll(async () => {
  await env?.close();
});

const items = (n: number, prefix = 'k') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v']));
const OVER = { overLimit: { code: 413, message: 'Maximum number of metadata items exceeds 128' } };
const count = async (table: 'volumes' | 'snapshots' | 'backups') =>
  Number(
    (
      await env.t.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('metadata item bound on every write path', () => {
  it('volume create from every source: 129 items are 413 and make no volume, 128 are accepted', async () => {
    const src = await makeVolume(env, P1);
    const snap = await makeSnapshot(env, P1, src);
    const [backup] = await insertBackups(env.t.db, [
      { project_id: P1, volume_id: src, container: 'c', service_metadata: 'p', object_count: 1, stored_bytes: 1 },
    ]);
    const sources: Array<[string, Record<string, unknown>, string?]> = [
      ['blank', { size: 1 }],
      ['snapshot', { snapshot_id: snap }],
      ['clone', { source_volid: src }],
      ['backup', { backup_id: backup }, '3.47'],
    ];
    for (const [what, source, version] of sources) {
      const before = await count('volumes');
      const r = await env.call('POST', '/volumes', P1, { volume: { ...source, metadata: items(129) } }, version);
      expect(r.json, what).toEqual(OVER);
      expect(r.status).toBe(413);
      expect(await count('volumes'), what).toBe(before);
    }
    const ok = await env.call('POST', '/volumes', P1, { volume: { size: 1, metadata: items(128) } });
    expect(ok.status).toBe(202);
  });

  it('snapshot create: 129 items are 413 and make no snapshot, 128 are accepted', async () => {
    const vol = await makeVolume(env, P1);
    const before = await count('snapshots');
    const r = await env.call('POST', '/snapshots', P1, { snapshot: { volume_id: vol, metadata: items(129) } });
    expect(r.json).toEqual(OVER);
    expect(await count('snapshots')).toBe(before);
    expect((await env.call('POST', '/snapshots', P1, { snapshot: { volume_id: vol, metadata: items(128) } })).status).toBe(202);
  });

  it('backup create (3.43 metadata): 129 items are 413 and make no backup, 128 are accepted', async () => {
    const vol = await makeVolume(env, P1);
    const before = await count('backups');
    const r = await env.call('POST', '/backups', P1, { backup: { volume_id: vol, metadata: items(129) } }, '3.43');
    expect(r.json).toEqual(OVER);
    expect(await count('backups')).toBe(before);
    expect((await env.call('POST', '/backups', P1, { backup: { volume_id: vol, metadata: items(128) } }, '3.43')).status).toBe(202);
  });

  it('volume and backup updates with 129 items are 413 and change nothing', async () => {
    const vol = await makeVolume(env, P1);
    const r = await env.call('PUT', `/volumes/${vol}`, P1, { volume: { name: 'renamed', metadata: items(129) } });
    expect(r.json).toEqual(OVER);
    expect((await env.call('GET', `/volumes/${vol}`, P1)).json.volume).toMatchObject({ name: 'vol', metadata: {} });

    const [backup] = await insertBackups(env.t.db, [{ project_id: P1, display_name: 'b' }]);
    const u = await env.call('PUT', `/backups/${backup}`, P1, { backup: { name: 'renamed', metadata: items(129) } }, '3.43');
    expect(u.json).toEqual(OVER);
    expect((await env.call('GET', `/backups/${backup}`, P1, undefined, '3.43')).json.backup).toMatchObject({ name: 'b', metadata: {} });
  });

  it('a key PUT that would add the 129th item is 413 and writes nothing; replacing an existing key still works', async () => {
    const vol = await makeVolume(env, P1);
    expect((await env.call('PUT', `/volumes/${vol}/metadata`, P1, { metadata: items(128) })).status).toBe(200);
    const r = await env.call('PUT', `/volumes/${vol}/metadata/extra`, P1, { meta: { extra: 'v' } });
    expect(r.json).toEqual(OVER);
    expect(Object.keys((await env.call('GET', `/volumes/${vol}/metadata`, P1)).json.metadata)).toHaveLength(128);
    expect((await env.call('PUT', `/volumes/${vol}/metadata/k0`, P1, { meta: { k0: 'w' } })).json).toEqual({ meta: { k0: 'w' } });
  });
});
