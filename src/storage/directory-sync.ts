import { open } from 'node:fs/promises';

/** Flushes a directory entry (a rename or unlink) to disk. */
export async function fsyncDirectory(path: string): Promise<void> {
  const fd = await open(path, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/**
 * Group commit for directory fsyncs. An object's rename is durable once an fsync of its
 * directory has STARTED after the rename; puts into one directory (a backup's objects share
 * one) that arrive while an fsync runs all wait for the single next one instead of queueing
 * one each. A caller's promise settles only after an fsync that began after its call, so the
 * durability of each put is what a private fsync would give.
 */
export class DirectorySyncer {
  private readonly running = new Map<string, Promise<void>>();
  private readonly next = new Map<string, Promise<void>>();

  constructor(private readonly sync: (dir: string) => Promise<void> = fsyncDirectory) {}

  syncAfterChange(dir: string): Promise<void> {
    const queued = this.next.get(dir);
    if (queued) return queued;
    const current = this.running.get(dir);
    if (!current) return this.start(dir);
    // An fsync is under way but may have begun before this caller's rename: join the next one.
    const after = current
      .catch(() => {})
      .then(() => {
        this.next.delete(dir);
        return this.start(dir);
      });
    this.next.set(dir, after);
    return after;
  }

  private start(dir: string): Promise<void> {
    const run = this.sync(dir).finally(() => {
      if (this.running.get(dir) === run) this.running.delete(dir);
    });
    this.running.set(dir, run);
    return run;
  }
}
