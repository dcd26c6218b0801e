import { open, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import { dataObjectName, metadataName, parseSha256File, renderMetadata, renderSha256File, sha256FileName, type BackupHeader, type ObjectEntry } from './backup-format.js';
import { BufferRing, Semaphore } from './concurrency.js';
import { BackupIntegrityError, OperationCancelledError, type BackupRequest, type BackupResult, type ProgressHooks } from './engine-api.js';
import { ownKeys, type EngineContext } from './engine-context.js';
import type { EncodeResult } from './worker-protocol.js';

/** Reads exactly `buf.length` bytes at `position`; a short file is an error (the source shrank). */
async function readFully(fh: FileHandle, buf: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error(`source ${path} ended at byte ${position + done}, expected more`);
    done += bytesRead;
  }
}

/** The parent's hash list, checked as Cinder checks it (reference §9.5). */
async function loadParentHashes(store: ObjectStore, req: BackupRequest, blockSize: number): Promise<string[] | null> {
  if (!req.parent) return null;
  const name = sha256FileName(req.parent.location.prefix);
  let text: string;
  try {
    text = (await store.get(req.parent.location.container, name)).toString('utf8');
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw new BackupIntegrityError(`parent's ${name} is missing`.slice(0, 255));
    throw err;
  }
  const parent = parseSha256File(text, name);
  if (parent.blockSize !== blockSize) {
    throw new BackupIntegrityError('Hash block size has changed since the last backup. Do a full backup.');
  }
  if (Math.ceil(req.source.sizeBytes / blockSize) > parent.sha256s.length) {
    throw new BackupIntegrityError('Volume size increased since the last backup. Do a full backup.');
  }
  return parent.sha256s;
}

/**
 * Backs up `req.source` in Cinder's chunked format (full, or incremental against `req.parent`).
 * Reading, hashing+compressing (worker pool) and uploading overlap; at most `chunksInFlight`
 * chunk buffers exist at any time. Throws OperationCancelledError (after deleting what it wrote)
 * when `hooks.shouldCancel` says so, BackupIntegrityError when the parent is unusable.
 */
export async function runBackup(ctx: EngineContext, store: ObjectStore, req: BackupRequest, hooks: ProgressHooks = {}): Promise<BackupResult> {
  const { objectSize, blockSize, compression } = ctx.options;
  if (objectSize % blockSize !== 0) throw new Error('Chunk size is not multiple of block size for creating hash.');
  const { container, prefix } = req.location;
  const size = req.source.sizeBytes;
  await store.ensureContainer(container);
  const parentHashes = await loadParentHashes(store, req, blockSize);

  // Chunks between read and the end of their upload: the cap on memory. Raw buffers go back to the
  // ring as soon as a chunk is encoded (unless stored raw), so the ring needs only one buffer per
  // worker plus one being read; the rest of the budget holds compressed bodies awaiting upload.
  const chunksInFlight = Math.max(1, ctx.options.chunksInFlight);
  const pipeline = new Semaphore(chunksInFlight);
  const ring = new BufferRing(Math.min(chunksInFlight, ctx.pool.size + 1), Math.min(objectSize, Math.max(size, 1)));
  const uploadSlots = new Semaphore(Math.max(1, ctx.options.uploadConcurrency));
  const entries: ObjectEntry[] = [];
  const sha256s: string[] = [];
  const inflight = new Set<Promise<void>>();
  let failure: Error | null = null;
  const fail = (err: unknown): void => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    ring.fail(failure);
    pipeline.open();
  };
  let storedBytes = 0;
  let bytesDone = 0;

  const put = async (key: string, body: Buffer, md5: string | null): Promise<void> => {
    await uploadSlots.run(() => store.put(container, key, body, md5 === null ? {} : { md5 }));
    storedBytes += body.length;
    ctx.metrics.bytesStored.inc(body.length);
  };

  // Runs in chunk order (names and the hash list must follow offsets); uploads then proceed in parallel.
  const handleEncoded = (r: EncodeResult, offset: number, length: number, startedAt: number): void => {
    for (const s of r.sha256s) sha256s.push(s);
    const rawNeeded = r.objects.some((o) => !o.body);
    if (!rawNeeded) ring.release(r.buf);
    const puts = r.objects.map((o) => {
      const name = dataObjectName(prefix, entries.length + 1);
      entries.push({ name, offset: offset + o.relOffset, length: o.length, compression: o.compression, md5: o.md5 });
      const body = o.body ? Buffer.from(o.body.buffer, o.body.byteOffset, o.body.byteLength) : Buffer.from(r.buf, o.relOffset, o.length);
      ctx.metrics.bytesUploaded.inc(o.length);
      return put(name, body, o.bodyMd5);
    });
    const done = Promise.all(puts).then(() => {
      if (rawNeeded) ring.release(r.buf);
      pipeline.release();
      bytesDone += length;
      ctx.metrics.chunkSeconds.observe({ operation: 'backup' }, (performance.now() - startedAt) / 1000);
      hooks.onProgress?.(bytesDone, size);
    }, fail);
    inflight.add(done);
    void done.finally(() => inflight.delete(done));
  };

  let order: Promise<void> = Promise.resolve();
  let cancelled = false;
  const fh = await open(req.source.path, 'r');
  try {
    for (let offset = 0; offset < size && !failure; offset += objectSize) {
      if (hooks.shouldCancel && (await hooks.shouldCancel())) {
        cancelled = true;
        break;
      }
      const startedAt = performance.now();
      await pipeline.acquire();
      if (failure) break;
      const buf = await ring.acquire().catch((err: unknown) => (fail(err), null));
      if (!buf) break;
      const length = Math.min(objectSize, size - offset);
      await readFully(fh, new Uint8Array(buf, 0, length), offset, req.source.path);
      ctx.metrics.bytesRead.inc({ operation: 'backup' }, length);
      const firstBlock = offset / blockSize;
      const work = ctx.pool.run(
        {
          kind: 'encode', buf, length, blockSize, compression, bodyMd5: store.wantsContentMd5,
          parentHashes: parentHashes ? parentHashes.slice(firstBlock, firstBlock + Math.ceil(length / blockSize)) : null,
        },
        [buf],
      );
      work.catch(() => undefined); // observed through `order`; avoids an unhandled-rejection report meanwhile
      order = order.then(async () => handleEncoded(await work, offset, length, startedAt)).catch(fail);
    }
  } catch (err) {
    fail(err);
  } finally {
    await order;
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
    await fh.close();
  }

  if (cancelled) {
    await deletePrefix(store, container, prefix);
    throw new OperationCancelledError('backup cancelled');
  }
  if (failure) throw failure;

  const header: BackupHeader = { backupId: req.backupId, volumeId: req.volumeId, name: req.name, description: req.description, createdAt: req.createdAt };
  // Cinder's order: the hash list, then _metadata last (its presence marks a complete backup).
  for (const [key, text] of [
    [sha256FileName(prefix), renderSha256File(header, blockSize, sha256s)],
    [metadataName(prefix), renderMetadata(header, entries, req.parent?.backupId ?? null, req.volumeMeta)],
  ] as const) {
    const body = Buffer.from(text, 'utf8');
    await put(key, body, createHash('md5').update(body).digest('base64'));
  }
  return { objectCount: entries.length, storedBytes, bytesRead: size };
}

/** Deletes every object under `prefix`; objects already gone are fine. */
export async function deletePrefix(store: ObjectStore, container: string, prefix: string): Promise<void> {
  const keys = ownKeys(await store.list(container, prefix), prefix);
  if (keys.length > 0) await store.deleteMany(container, keys);
}
