import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeVolumeImage } from '../../bench/volume-image.js';
import type { BackupLocation, BackupRequest, StoredObject } from '../../src/engine/engine-api.js';
import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import { changeRandomBlocks, engineFixture } from '../helpers/engine-fixtures.js';

/**
 * Resuming an interrupted backup (BackupRequest.resume): the store ends byte-identical to an
 * uninterrupted run's (data objects, _metadata, _sha256file) and only what was not stored, or
 * cannot be trusted, is uploaded again.
 */
let fx: Awaited<ReturnType<typeof engineFixture>>;
let engine: ReturnType<typeof fx.engine>;
beforeEach(async () => {
  fx = await engineFixture();
  engine = fx.engine();
});
afterEach(async () => fx.cleanup());

const KiB = 1024;
const size = 40 * 64 * KiB; // 40 objects of the fixture engine's 64 KiB

/** A memory store counting uploaded bytes that dies (every PUT fails) after `crashAfter` data PUTs. */
class CrashingStore extends MemoryObjectStore {
  uploaded = 0;
  dataPuts = 0;
  crashAfter = Number.POSITIVE_INFINITY;
  override async put(container: string, key: string, body: Buffer): Promise<void> {
    if (/-\d{5}$/.test(key) && ++this.dataPuts > this.crashAfter) throw new Error('process killed');
    this.uploaded += body.length;
    return super.put(container, key, body);
  }
  async contents(container: string): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    for (const k of await this.list(container, '')) out.set(k, await this.get(container, k));
    return out;
  }
}

/** Runs `req` into `store`, interrupted after `crashAfter` data PUTs; returns what was recorded as stored. */
async function interrupted(store: CrashingStore, req: BackupRequest, crashAfter: number): Promise<Map<string, StoredObject>> {
  const recorded = new Map<string, StoredObject>();
  store.crashAfter = crashAfter;
  await expect(engine.backup(store, req, { onObjectStored: (name, o) => recorded.set(name, o) })).rejects.toThrow('process killed');
  store.crashAfter = Number.POSITIVE_INFINITY;
  return recorded;
}

async function uninterrupted(req: BackupRequest): Promise<{ objects: Map<string, Buffer>; uploaded: number }> {
  const store = new CrashingStore();
  await engine.backup(store, req);
  return { objects: await store.contents(req.location.container), uploaded: store.uploaded };
}

async function source(seed: number): Promise<string> {
  const path = join(fx.dir, `src-${seed}`);
  await writeVolumeImage(path, size, undefined, seed);
  return path;
}

describe('resuming an interrupted backup', () => {
  it('ends byte-identical to an uninterrupted full backup and uploads only the objects not stored', async () => {
    const loc: BackupLocation = fx.location();
    const req = fx.request(await source(1), size, loc);
    const reference = await uninterrupted(req);

    const store = new CrashingStore();
    const recorded = await interrupted(store, req, 17);
    expect(recorded.size).toBeGreaterThan(0);
    expect(recorded.size).toBeLessThanOrEqual(17);
    const beforeResume = store.uploaded;
    const result = await engine.backup(store, { ...req, resume: recorded });
    const reuploaded = store.uploaded - beforeResume;

    expect(await store.contents(loc.container)).toEqual(reference.objects);
    expect(result.reusedObjects).toBe(recorded.size);
    const reusedBytes = [...recorded.values()].reduce((n, o) => n + o.storedSize, 0);
    expect(result.reusedBytes).toBe(reusedBytes);
    expect(reuploaded).toBe(reference.uploaded - reusedBytes);
    expect(result.storedBytes).toBe(reference.uploaded); // the backup's size, reused objects included
  });

  it('uploads again an object whose record does not match, one that is gone, and one stored without a record', async () => {
    const loc = fx.location();
    const req = fx.request(await source(2), size, loc);
    const reference = await uninterrupted(req);
    const store = new CrashingStore();
    const recorded = await interrupted(store, req, 12);
    const names = [...recorded.keys()].sort();
    expect(names.length).toBeGreaterThanOrEqual(4);
    // A record whose md5 differs (another encoding), an object removed behind our back, an object
    // cut short (present, other size), and the half-written 13th object that has no record.
    recorded.set(names[0]!, { ...recorded.get(names[0]!)!, md5: '0'.repeat(32) });
    await store.deleteMany(loc.container, [names[1]!]);
    await store.put(loc.container, names[2]!, Buffer.from('truncated'));
    const thirteenth = `${loc.prefix}-00013`;
    await store.put(loc.container, thirteenth, Buffer.from('half written'));
    const result = await engine.backup(store, { ...req, resume: recorded });

    expect(await store.contents(loc.container)).toEqual(reference.objects);
    expect(result.reusedObjects).toBe(recorded.size - 3);
  });

  it('resumes an incremental to the same objects and hash list as an uninterrupted one', async () => {
    const path = await source(3);
    const parentLoc = fx.location();
    const parentReq = fx.request(path, size, parentLoc);
    const store = new CrashingStore();
    await engine.backup(store, parentReq);
    const refStore = new CrashingStore();
    await engine.backup(refStore, parentReq);
    await changeRandomBlocks(path, size, 4096, 60);

    const loc = fx.location();
    const req = fx.request(path, size, loc, { backupId: parentReq.backupId, location: parentLoc });
    await engine.backup(refStore, req);
    const recorded = await interrupted(store, req, 6);
    const result = await engine.backup(store, { ...req, resume: recorded });

    const ours = await store.contents(loc.container);
    const theirs = await refStore.contents(loc.container);
    expect([...ours.keys()].filter((k) => k.startsWith(loc.prefix))).toEqual([...theirs.keys()].filter((k) => k.startsWith(loc.prefix)));
    expect(ours).toEqual(theirs);
    expect(result.reusedObjects).toBe(recorded.size);
  });

  it('removes data objects past the last one of the resumed run (an earlier run of a longer source)', async () => {
    const loc = fx.location();
    const req = fx.request(await source(4), size, loc);
    const reference = await uninterrupted(req);
    const store = new CrashingStore();
    await store.ensureContainer(loc.container);
    await store.put(loc.container, `${loc.prefix}-00041`, Buffer.from('stray'));
    await engine.backup(store, { ...req, resume: new Map() });
    expect(await store.contents(loc.container)).toEqual(reference.objects);
  });
});
