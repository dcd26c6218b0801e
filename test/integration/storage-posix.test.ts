import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectStoreError } from '../../src/storage/object-store.js';
import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import { writerTag } from '../../src/storage/posix-paths.js';
import { PosixObjectStore } from '../../src/storage/posix-store.js';
import { describeObjectStore } from './storage-conformance.js';

const root = mkdtempSync(join(tmpdir(), 'cbt-posix-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeObjectStore('posix', () => ({
  store: new PosixObjectStore(join(root, 'conformance')),
  container: 'aa/bb/backup-1',
  multipartThreshold: 5 * 1024 * 1024,
}));

// The engine's unit tests stand on the memory store, so it must pass the same suite.
describeObjectStore('memory', () => ({
  store: new MemoryObjectStore(),
  container: 'volumebackups',
  multipartThreshold: 5 * 1024 * 1024,
}));

describe('posix store specifics', () => {
  const storeRoot = join(root, 'specific');
  const store = new PosixObjectStore(join(storeRoot, 'backups'));

  it('rejects keys and containers that would escape the root, and writes nothing', async () => {
    await store.ensureContainer('c');
    const badKeys = ['../x', 'a/../../x', '/abs', 'a//b', 'a/', '.', 'a\0b', 'a\\b', 'x.0123456789abcdef.partial~'];
    for (const key of badKeys) {
      await expect(store.put('c', key, Buffer.from('evil')), key).rejects.toBeInstanceOf(ObjectStoreError);
      await expect(store.get('c', key), key).rejects.toBeInstanceOf(ObjectStoreError);
      await expect(store.head('c', key), key).rejects.toBeInstanceOf(ObjectStoreError);
      await expect(store.deleteMany('c', [key]), key).rejects.toBeInstanceOf(ObjectStoreError);
    }
    for (const container of ['..', '../c', '/etc', '']) {
      await expect(store.put(container, 'k', Buffer.from('evil')), container).rejects.toBeInstanceOf(ObjectStoreError);
      await expect(store.list(container, ''), container).rejects.toBeInstanceOf(ObjectStoreError);
    }
    await expect(store.list('c', '../')).rejects.toBeInstanceOf(ObjectStoreError);
    expect(await readdir(storeRoot)).toEqual(['backups']);
    expect(await readdir(join(storeRoot, 'backups'))).toEqual(['c']);
    expect(await readdir(join(storeRoot, 'backups', 'c'))).toEqual([]);
  });

  it('does not list a temp file left behind by a crash mid-write, nor leave one after a put', async () => {
    await store.ensureContainer('crash');
    await store.put('crash', 'vol/obj-00001', Buffer.from('whole'));
    await writeFile(join(storeRoot, 'backups', 'crash', 'vol', 'obj-00002.0123456789abcdef.partial~'), 'half');
    expect(await store.list('crash', 'vol/')).toEqual(['vol/obj-00001']);
    expect((await readdir(join(storeRoot, 'backups', 'crash', 'vol'))).sort()).toEqual([
      'obj-00001',
      'obj-00002.0123456789abcdef.partial~',
    ]);
  });

  it('removes the temp files of writers that no longer run or of old writes, and keeps those of a live writer', async () => {
    await store.ensureContainer('sweep');
    const dir = join(storeRoot, 'backups', 'sweep', 'trove_i');
    await store.put('sweep', 'trove_i/b_f000001p0-00001', Buffer.from('whole'));
    const gone = spawnSync(process.execPath, ['-e', '0']).pid; // a pid that has exited
    const dead = `b_f000002p0-00001.${writerTag(gone)}.partial~`;
    const live = `b_f000003p0-00001.${writerTag()}.partial~`;
    const otherHost = `b_f000004p0-00001.${writerTag(gone, 'another-host')}.partial~`;
    const stale = `b_f000005p0-00001.${writerTag(gone, 'another-host')}.partial~`;
    for (const n of [dead, live, otherHost, stale]) await writeFile(join(dir, n), 'half');
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    await utimes(join(dir, stale), twoDaysAgo, twoDaysAgo);
    expect(await store.removeAbandonedTemporaries()).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['b_f000001p0-00001', live, otherHost].sort());
  });

  it('deleteMany removes directories it leaves empty, but not the container', async () => {
    await store.ensureContainer('tidy');
    await store.put('tidy', 'volume_1/2026/az_nova_backup_1-00001', Buffer.from('x'));
    await store.put('tidy', 'volume_2/keep', Buffer.from('y'));
    await store.deleteMany('tidy', ['volume_1/2026/az_nova_backup_1-00001']);
    expect(await readdir(join(storeRoot, 'backups', 'tidy'))).toEqual(['volume_2']);
    await store.deleteMany('tidy', ['volume_2/keep']);
    expect(await readdir(join(storeRoot, 'backups', 'tidy'))).toEqual([]);
  });
});
