import { mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { DirectorySyncer } from './directory-sync.js';
import { ObjectNotFoundError, ObjectStoreError, type ObjectStore } from './object-store.js';
import { TEMP_PATTERN, resolveInside, safeSegments, tempPathFor, writerOnThisHost, writerTag } from './posix-paths.js';
import { storeError } from './store-errors.js';

const codeOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;
const isMissing = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes(codeOf(err) ?? '');

/**
 * The posix store (Cinder's PosixBackupDriver): a container is a directory below `root`,
 * a key's "/" become nested directories. Writes are atomic (temp file, fsync, rename,
 * fsync of the directory), so a crash leaves the old object or the new one, never half.
 * Concurrent puts into one directory share their directory fsyncs (DirectorySyncer) rather
 * than queueing one each.
 * NOTE: a name cannot be both an object and a "directory" of other objects ("a" and "a/b").
 */
export class PosixObjectStore implements ObjectStore {
  readonly serviceName = 'cinder.backup.drivers.posix.PosixBackupDriver';
  readonly wantsContentMd5 = false;
  private readonly directories = new DirectorySyncer();

  constructor(
    private readonly root: string,
    readonly defaultContainer = 'volumebackups',
  ) {}

  async ensureContainer(container: string): Promise<void> {
    const dir = resolveInside(this.root, container);
    await mkdir(dir, { recursive: true }).catch((err: unknown) => {
      throw storeError('posix', 'create container', container, err);
    });
  }

  async put(container: string, key: string, body: Buffer): Promise<void> {
    const path = resolveInside(this.root, container, key);
    const temp = tempPathFor(path, writerTag());
    try {
      // A concurrent deleteMany may remove the (empty) directory between mkdir and open: retry.
      for (let attempt = 1; ; attempt++) {
        await mkdir(dirname(path), { recursive: true });
        try {
          const fd = await open(temp, 'wx', 0o640);
          try {
            await fd.writeFile(body);
            await fd.sync();
          } finally {
            await fd.close();
          }
          break;
        } catch (err) {
          if (codeOf(err) !== 'ENOENT' || attempt >= 3) throw err;
        }
      }
      await rename(temp, path);
      await this.directories.syncAfterChange(dirname(path));
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw storeError('posix', 'put', `${container}/${key}`, err);
    }
  }

  async get(container: string, key: string, range?: { start: number; end: number }, into?: ArrayBuffer): Promise<Buffer> {
    const fd = await this.openObject(container, key);
    try {
      const size = (await fd.stat()).size;
      const start = range?.start ?? 0;
      // Like S3: an end past the object is clamped; a start past it is an error.
      const end = Math.min(range?.end ?? size - 1, size - 1);
      if (range && (start > end || start < 0)) {
        throw new ObjectStoreError(`posix get ${container}/${key} failed: range ${start}-${range.end} outside ${size} bytes`);
      }
      const length = Math.max(0, end - start + 1);
      const out = into && into.byteLength >= length ? Buffer.from(into, 0, length) : Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < out.length) {
        const { bytesRead } = await fd.read(out, filled, out.length - filled, start + filled);
        if (bytesRead === 0) throw new ObjectStoreError(`posix get ${container}/${key} failed: file shrank`);
        filled += bytesRead;
      }
      return out;
    } catch (err) {
      throw storeError('posix', 'get', `${container}/${key}`, err);
    } finally {
      await fd.close();
    }
  }

  async getStream(container: string, key: string): Promise<Readable> {
    const fd = await this.openObject(container, key);
    return fd.createReadStream({ autoClose: true });
  }

  async head(container: string, key: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(resolveInside(this.root, container, key));
      return s.isFile() ? { size: s.size } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw storeError('posix', 'head', `${container}/${key}`, err);
    }
  }

  async list(container: string, prefix: string): Promise<string[]> {
    const base = resolveInside(this.root, container);
    // Start the walk at the deepest directory the prefix names, not at the container.
    const slash = prefix.lastIndexOf('/');
    const start = slash < 0 ? base : join(base, ...safeSegments('key', prefix.slice(0, slash)));
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw storeError('posix', 'list', `${container}/${prefix}*`, err);
      }
      for (const e of entries) {
        const path = join(dir, e.name);
        if (e.isDirectory()) await walk(path);
        else if (e.isFile() && !TEMP_PATTERN.test(e.name)) {
          const key = relative(base, path).split(sep).join('/');
          if (key.startsWith(prefix)) keys.push(key);
        }
      }
    };
    await walk(start);
    return keys.sort();
  }

  async deleteMany(container: string, keys: string[]): Promise<void> {
    const base = resolveInside(this.root, container);
    const dirs = new Set<string>();
    for (const key of keys) {
      const path = resolveInside(this.root, container, key);
      try {
        await unlink(path);
      } catch (err) {
        if (!isMissing(err)) throw storeError('posix', 'delete', `${container}/${key}`, err);
      }
      dirs.add(dirname(path));
    }
    // Remove directories left empty, deepest first, never the container itself.
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
      for (let d = dir; d.startsWith(base + sep); d = dirname(d)) {
        try {
          await rmdir(d);
        } catch {
          break; // not empty (or already gone): its ancestors are not empty either
        }
      }
    }
  }

  /**
   * Removes temp files left by puts that cannot finish: written on this host by a process that
   * no longer runs (a killed backup), or older than `maxAgeMs` (other hosts, older versions).
   * Run at worker start; returns how many it removed.
   */
  async removeAbandonedTemporaries(maxAgeMs = 24 * 3600_000): Promise<number> {
    let removed = 0;
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (err) {
        return codeOf(err) === 'EPERM';
      }
    };
    for (const e of await readdir(this.root, { withFileTypes: true, recursive: true }).catch(() => [])) {
      if (!e.isFile() || !TEMP_PATTERN.test(e.name)) continue;
      const path = join(e.parentPath, e.name);
      const pid = writerOnThisHost(e.name);
      const old = async () => Date.now() - (await stat(path)).mtimeMs > maxAgeMs;
      try {
        if ((pid !== null && !alive(pid)) || (await old())) {
          await unlink(path);
          removed++;
        }
      } catch (err) {
        if (!isMissing(err)) throw storeError('posix', 'remove temporary', path, err);
      }
    }
    return removed;
  }

  async close(): Promise<void> {}

  private async openObject(container: string, key: string) {
    const path = resolveInside(this.root, container, key);
    try {
      const fd = await open(path, 'r');
      if ((await fd.stat()).isFile()) return fd;
      await fd.close();
      throw new ObjectNotFoundError(container, key);
    } catch (err) {
      if (err instanceof ObjectNotFoundError || isMissing(err)) throw new ObjectNotFoundError(container, key);
      throw storeError('posix', 'get', `${container}/${key}`, err);
    }
  }
}
