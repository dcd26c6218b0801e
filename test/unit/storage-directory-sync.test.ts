import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectorySyncer, fsyncDirectory } from '../../src/storage/directory-sync.js';

/** A sync whose calls are recorded and finished by hand, so a test sees which callers share which fsync. */
function manualSync() {
  const calls: { dir: string; finish: (err?: Error) => void }[] = [];
  const sync = (dir: string): Promise<void> =>
    new Promise((resolve, reject) => calls.push({ dir, finish: (err) => (err ? reject(err) : resolve()) }));
  return { calls, sync };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Settles to the order in which the promises resolved (labels), after pending callbacks ran. */
function track(promises: Record<string, Promise<void>>) {
  const done: string[] = [];
  for (const [label, p] of Object.entries(promises))
    p.then(
      () => done.push(label),
      () => done.push(`${label}!`),
    );
  return done;
}

describe('DirectorySyncer', () => {
  it('a lone caller gets an fsync of its own', async () => {
    const { calls, sync } = manualSync();
    const syncer = new DirectorySyncer(sync);
    const done = track({ a: syncer.syncAfterChange('/d') });
    expect(calls.map((c) => c.dir)).toEqual(['/d']);
    calls[0]!.finish();
    await tick();
    expect(done).toEqual(['a']);
  });

  it('callers that arrive during an fsync share the single next one, never the running one', async () => {
    const { calls, sync } = manualSync();
    const syncer = new DirectorySyncer(sync);
    const first = syncer.syncAfterChange('/d');
    const done = track({ first, b: syncer.syncAfterChange('/d'), c: syncer.syncAfterChange('/d'), d: syncer.syncAfterChange('/d') });
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await tick();
    // b, c and d renamed after the first fsync began: it does not cover them.
    expect(done).toEqual(['first']);
    expect(calls).toHaveLength(2);
    calls[1]!.finish();
    await tick();
    expect(done).toEqual(['first', 'b', 'c', 'd']);
    expect(calls).toHaveLength(2);
  });

  it('a caller arriving while the shared fsync runs waits for a third one', async () => {
    const { calls, sync } = manualSync();
    const syncer = new DirectorySyncer(sync);
    const done = track({ a: syncer.syncAfterChange('/d'), b: syncer.syncAfterChange('/d') });
    calls[0]!.finish();
    await tick();
    expect(calls).toHaveLength(2);
    const late = track({ c: syncer.syncAfterChange('/d') });
    calls[1]!.finish();
    await tick();
    expect(done).toEqual(['a', 'b']);
    expect(late).toEqual([]);
    expect(calls).toHaveLength(3);
    calls[2]!.finish();
    await tick();
    expect(late).toEqual(['c']);
  });

  it('directories do not wait for each other', async () => {
    const { calls, sync } = manualSync();
    const syncer = new DirectorySyncer(sync);
    const done = track({ a: syncer.syncAfterChange('/a'), b: syncer.syncAfterChange('/b') });
    expect(calls.map((c) => c.dir)).toEqual(['/a', '/b']);
    calls[1]!.finish();
    await tick();
    expect(done).toEqual(['b']);
    calls[0]!.finish();
    await tick();
    expect(done).toEqual(['b', 'a']);
  });

  it('a failed fsync fails its callers, and the next callers get a fresh fsync', async () => {
    const { calls, sync } = manualSync();
    const syncer = new DirectorySyncer(sync);
    const done = track({ a: syncer.syncAfterChange('/d'), b: syncer.syncAfterChange('/d') });
    calls[0]!.finish(new Error('EIO'));
    await tick();
    expect(done).toEqual(['a!']);
    calls[1]!.finish(new Error('EIO'));
    await tick();
    expect(done).toEqual(['a!', 'b!']);
    const after = track({ c: syncer.syncAfterChange('/d') });
    expect(calls).toHaveLength(3);
    calls[2]!.finish();
    await tick();
    expect(after).toEqual(['c']);
  });

  it('fsyncDirectory flushes a real directory and rejects a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dirsync-'));
    try {
      await expect(fsyncDirectory(dir)).resolves.toBeUndefined();
      await expect(fsyncDirectory(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
