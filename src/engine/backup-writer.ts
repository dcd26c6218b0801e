import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import {
  dataObjectName,
  metadataName,
  renderMetadata,
  renderSha256File,
  sha256FileName,
  type BackupHeader,
  type ObjectEntry,
} from './backup-format.js';
import { ZSTD_LEVEL } from './codec.js';
import { blocksToRead, bytesToRead, readBlocks, readFully, skipMask } from './changed-blocks.js';
import { Semaphore, isSmallChunk } from './concurrency.js';
import { DIGEST_BYTES, DigestList, type digestsFromHex } from './digest-list.js';
import {
  BackupIntegrityError,
  OperationCancelledError,
  type BackupRequest,
  type BackupResult,
  type ProgressHooks,
  type StoredObject,
} from './engine-api.js';
import { ownKeys, type EngineContext } from './engine-context.js';
import { readSha256File } from './sha256-file-reader.js';
import type { EncodeResult } from './worker-protocol.js';

/** Small bodies (isSmallChunk) in flight per BACKUP_UPLOAD_CONCURRENCY slot; measured in BENCHMARKS.md (CBT). */
export const SMALL_UPLOADS_PER_SLOT = 4;

/** The parent's hash list, checked as Cinder checks it (chunkeddriver.py: an incremental needs its parent's sha256 list). */
async function loadParentHashes(
  ctx: EngineContext,
  store: ObjectStore,
  req: BackupRequest,
  blockSize: number,
): Promise<ReturnType<typeof digestsFromHex> | null> {
  if (!req.parent) return null;
  const name = sha256FileName(req.parent.location.prefix);
  const { container } = req.parent.location;
  let parent: ReturnType<typeof readSha256File>;
  try {
    // From the bytes, as a restore reads it: no 18 MiB string and 262,144 hex strings at 8 GiB.
    // Into a pooled chunk buffer (nothing decoded from it views it): see writeHashListAndMetadata.
    parent = await ctx.buffers.run(async (scratch) => readSha256File(await store.get(container, name, undefined, scratch), name));
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw new BackupIntegrityError(`parent's ${name} is missing`.slice(0, 255));
    throw err;
  }
  if (parent.blockSize !== blockSize) {
    throw new BackupIntegrityError('Hash block size has changed since the last backup. Do a full backup.');
  }
  if (Math.ceil(req.source.sizeBytes / blockSize) > parent.hashes.valid.length) {
    throw new BackupIntegrityError('Volume size increased since the last backup. Do a full backup.');
  }
  return parent.hashes;
}

/**
 * Backs up `req.source` in Cinder's chunked format (full, or incremental against `req.parent`).
 * Reading, hashing+compressing (worker pool) and uploading overlap, within the engine-wide memory
 * budget (EngineContext.chunkBudget and .buffers) that all operations share. Throws
 * OperationCancelledError (after deleting what it wrote) when `hooks.shouldCancel` says so,
 * BackupIntegrityError when the parent is unusable.
 */
export async function runBackup(
  ctx: EngineContext,
  store: ObjectStore,
  req: BackupRequest,
  hooks: ProgressHooks = {},
): Promise<BackupResult> {
  ctx.backupsRunning++;
  try {
    return await writeBackup(ctx, store, req, hooks);
  } finally {
    if (--ctx.backupsRunning === 0) ctx.encoded.trim();
  }
}

async function writeBackup(ctx: EngineContext, store: ObjectStore, req: BackupRequest, hooks: ProgressHooks): Promise<BackupResult> {
  const { objectSize, blockSize, compression } = ctx.options;
  if (objectSize % blockSize !== 0) throw new Error('Chunk size is not multiple of block size for creating hash.');
  const { container, prefix } = req.location;
  const size = req.source.sizeBytes;
  await store.ensureContainer(container);
  const parentHashes = await loadParentHashes(ctx, store, req, blockSize);
  const toRead = parentHashes && blocksToRead(req.changedBlocks, parentHashes.valid, Math.ceil(size / blockSize));

  // Memory is capped engine-wide, whatever the number of operations: ctx.chunkBudget bounds chunks
  // between read and the end of their upload, ctx.buffers the raw chunk buffers. A raw buffer goes
  // back as soon as its chunk is encoded (unless the chunk is stored raw), so the budget's other
  // permits hold only compressed bodies awaiting upload.
  const uploadSlots = new Semaphore(Math.max(1, ctx.options.uploadConcurrency));
  // An incremental stores one small object per changed extent. Its PUT waits on latency (an fsync
  // on posix, a round trip on S3), not on bandwidth, and its body costs next to no memory, so
  // small bodies get more slots of their own.
  const smallUploadSlots = new Semaphore(Math.max(1, ctx.options.uploadConcurrency) * SMALL_UPLOADS_PER_SLOT);
  const abort = new AbortController();
  const entries: ObjectEntry[] = [];
  const digests = new DigestList();
  const chunks = new Set<Promise<void>>();
  let failure: Error | null = null;
  const fail = (err: unknown): void => {
    if (failure) return;
    failure = err instanceof Error ? err : new Error(String(err));
    abort.abort(failure);
  };
  let storedBytes = 0;
  let bytesDone = 0;
  let bytesRead = 0;
  const report = (phase?: 'finishing') =>
    hooks.onProgress?.(bytesDone, size, {
      phase: phase ?? (storedBytes > 0 ? 'uploading' : 'reading'),
      bytesRead,
      bytesStored: storedBytes,
    });

  const put = async (key: string, body: Buffer, md5: string | null): Promise<void> => {
    // No abort signal here: an incremental may queue hundreds of small PUTs (one listener each);
    // a PUT that gets its turn after a failure is skipped instead.
    const slots = isSmallChunk(body.length, ctx.buffers.size) ? smallUploadSlots : uploadSlots;
    await slots.run(() => (failure ? Promise.reject(failure) : store.put(container, key, body, md5 === null ? {} : { md5 })));
    storedBytes += body.length;
    ctx.metrics.bytesStored.inc(body.length);
  };

  // Resuming: an object the interrupted run stored with the same encoding is kept, not re-put.
  let reusedObjects = 0;
  let reusedBytes = 0;
  const putData = async (e: ObjectEntry, body: Buffer, bodyMd5: string | null): Promise<void> => {
    const stored: StoredObject = { md5: e.md5, compression: e.compression, length: e.length, storedSize: body.length };
    if (await wasStored(store, container, e.name, stored, req.resume)) {
      reusedObjects++;
      reusedBytes += body.length;
      storedBytes += body.length;
      return;
    }
    await put(e.name, body, bodyMd5);
    hooks.onObjectStored?.(e.name, stored);
  };

  // A small chunk's or a packed CBT chunk's buffer is its own (isSmallChunk); the others go back to the pool.
  const giveBack = (b: ArrayBuffer): void => {
    if (b.byteLength === ctx.buffers.size) ctx.buffers.release(b);
  };

  // Names and the hash list follow offsets, so each chunk is entered after the one before it
  // (`turn`); its uploads then run in parallel with later chunks. Holds one budget permit and,
  // until it is no longer needed, one buffer, and gives both back however it ends.
  const runChunk = async (
    work: Promise<EncodeResult>,
    turn: Promise<void>,
    entered: () => void,
    offset: number,
    length: number,
    pooled: boolean,
    withOut: boolean,
    startedAt: number,
  ) => {
    let buf: ArrayBuffer | null = null;
    let out: ArrayBuffer | null = null;
    let lost = true; // lent to a worker until the result brings them back
    try {
      const r = await work;
      buf = r.buf;
      out = r.out;
      lost = false;
      await turn;
      if (failure) return;
      digests.append(r.digests);
      const puts = r.objects.map((o) => {
        const entry = {
          name: dataObjectName(prefix, entries.length + 1),
          offset: offset + o.relOffset,
          length: o.length,
          compression: o.compression,
          md5: o.md5,
        };
        entries.push(entry);
        const body = o.body ? Buffer.from(o.body.buffer, o.body.byteOffset, o.body.byteLength) : Buffer.from(r.buf, o.relOffset, o.length);
        ctx.metrics.bytesUploaded.inc(o.length);
        return putData(entry, body, o.bodyMd5);
      });
      entered();
      if (r.objects.every((o) => o.body)) giveBack(r.buf), (buf = null);
      // Every put ends before its bodies' buffers are reused, even when one of them fails.
      const failed = (await Promise.allSettled(puts)).find((p) => p.status === 'rejected');
      if (failed) throw failed.reason;
      bytesDone += length;
      ctx.metrics.chunkSeconds.observe({ operation: 'backup' }, (performance.now() - startedAt) / 1000);
      report();
    } catch (err) {
      fail(err);
    } finally {
      entered();
      if (buf) giveBack(buf);
      else if (lost && pooled) ctx.buffers.forget();
      if (out) ctx.encoded.release(out);
      else if (lost && withOut) ctx.encoded.forget();
      ctx.chunkBudget.release();
    }
  };

  let turn: Promise<void> = Promise.resolve();
  let cancelled = false;
  const fh = await open(req.source.path, 'r');
  try {
    for (let offset = 0; offset < size && !failure; offset += objectSize) {
      if (hooks.shouldCancel && (await hooks.shouldCancel())) {
        cancelled = true;
        break;
      }
      const startedAt = performance.now();
      try {
        await ctx.chunkBudget.acquire(abort.signal);
      } catch {
        break; // this operation failed meanwhile
      }
      const length = Math.min(objectSize, size - offset);
      const firstBlock = offset / blockSize;
      const blocks = Math.ceil(length / blockSize);
      // Copies (slice), not views: a view would carry the parent's whole list to the worker.
      const parent = parentHashes && {
        digests: parentHashes.digests.slice(firstBlock * DIGEST_BYTES, (firstBlock + blocks) * DIGEST_BYTES),
        valid: parentHashes.valid.slice(firstBlock, firstBlock + blocks),
      };
      const skip = toRead && skipMask(toRead, firstBlock, blocks);
      let work: Promise<EncodeResult>;
      let pooled = false;
      let withOut = false;
      let out: ArrayBuffer | null = null;
      if (parent && skip && skip.every((b) => b === 1)) {
        // CBT: nothing in this chunk changed since the parent; its hashes are the parent's.
        work = Promise.resolve({ kind: 'encode', buf: new ArrayBuffer(0), digests: parent.digests, objects: [], out: null });
      } else {
        // A CBT chunk with few blocks to read packs them into a buffer of their size. (When pooled
        // buffers were transferred, each round trip counted as new external memory for V8, and 32
        // of them per GiB set off collections that took ~40 % of a 1 % incremental's time; pooled
        // buffers are shared now, and a packed one still sends the worker only what was read.)
        const packedBytes = skip ? bytesToRead(skip, length, blockSize) : length;
        const packed = skip !== null && isSmallChunk(packedBytes, ctx.buffers.size);
        pooled = !packed && !isSmallChunk(length, ctx.buffers.size);
        let buf: ArrayBuffer;
        try {
          buf = pooled ? await ctx.buffers.acquire(abort.signal) : new ArrayBuffer(packed ? packedBytes : length);
        } catch {
          ctx.chunkBudget.release();
          break;
        }
        // A full chunk's zstd bodies go into a recycled buffer (one per budget permit, so no wait).
        withOut = pooled && compression === 'zstd';
        if (withOut) out = await ctx.encoded.acquire();
        let read = length;
        try {
          const at = offset + (req.source.offset ?? 0);
          if (skip) read = await readBlocks(fh, buf, at, length, blockSize, skip, req.source.path, packed);
          else await readFully(fh, new Uint8Array(buf, 0, length), at, req.source.path);
        } catch (err) {
          giveBack(buf);
          if (out) ctx.encoded.release(out);
          ctx.chunkBudget.release();
          throw err;
        }
        ctx.metrics.bytesRead.inc({ operation: 'backup' }, read);
        bytesRead += read;
        report();
        work = ctx.pool.run(
          {
            kind: 'encode',
            buf,
            length,
            blockSize,
            compression,
            zstdLevel: ctx.options.zstdLevel ?? ZSTD_LEVEL,
            bodyMd5: store.wantsContentMd5,
            parent,
            skip: parent && skip,
            packed,
            out,
          },
          out ? [buf, out] : [buf],
        );
      }
      let entered!: () => void;
      const next = new Promise<void>((resolve) => (entered = resolve));
      const chunk = runChunk(work, turn, entered, offset, length, pooled, withOut, startedAt);
      turn = next;
      chunks.add(chunk);
      void chunk.finally(() => chunks.delete(chunk));
    }
  } catch (err) {
    fail(err);
  } finally {
    while (chunks.size > 0) await Promise.allSettled([...chunks]);
    await fh.close();
  }

  if (cancelled) {
    await deletePrefix(store, container, prefix);
    throw new OperationCancelledError('backup cancelled');
  }
  if (failure) throw failure;

  report('finishing');
  // An interrupted run of a changed source may have stored objects past this run's last one.
  if (req.resume) await deleteStrays(store, container, prefix, entries);
  await writeHashListAndMetadata(ctx, req, blockSize, entries, digests, (key, body) =>
    // Content-MD5 only where the store checks it: 30 ms for an 8 GiB volume's 18.9 MB hash list.
    put(key, body, store.wantsContentMd5 ? createHash('md5').update(body).digest('base64') : null),
  );
  report('finishing');
  return { objectCount: entries.length, storedBytes, bytesRead, reusedObjects, reusedBytes };
}

/**
 * Stores the `_sha256file`, then `_metadata` last (Cinder's order: its presence marks a complete
 * backup). The hash list is rendered into a pooled chunk buffer when it fits (up to ~14 GiB volumes
 * with the default 32 MiB objects). NOTE: this VM pays ~2.8 ms per MB on the first touch of fresh
 * memory, and an 8 GiB volume's list is 19 MB, read (the parent's) and written once per backup:
 * pooled, an 8 GiB CBT incremental took 0.304 s instead of 0.332 (BENCHMARKS.md, round five).
 */
async function writeHashListAndMetadata(
  ctx: EngineContext,
  req: BackupRequest,
  blockSize: number,
  entries: ObjectEntry[],
  digests: DigestList,
  put: (key: string, body: Buffer) => Promise<void>,
): Promise<void> {
  const header: BackupHeader = {
    backupId: req.backupId,
    volumeId: req.volumeId,
    name: req.name,
    description: req.description,
    createdAt: req.createdAt,
  };
  const { prefix } = req.location;
  await ctx.buffers.run((scratch) => put(sha256FileName(prefix), renderSha256File(header, blockSize, digests, scratch)));
  await put(metadataName(prefix), Buffer.from(renderMetadata(header, entries, req.parent?.backupId ?? null, req.volumeMeta), 'utf8'));
}

/**
 * True when an earlier run stored `name` with exactly this encoding (md5 of the data,
 * compression, lengths: `resume`) and the store still holds an object of that size. Only
 * completed PUTs are recorded, so a half-written object is never kept.
 */
async function wasStored(
  store: ObjectStore,
  container: string,
  name: string,
  want: StoredObject,
  resume: ReadonlyMap<string, StoredObject> | undefined,
): Promise<boolean> {
  const had = resume?.get(name);
  if (!had || had.md5 !== want.md5 || had.compression !== want.compression) return false;
  if (had.length !== want.length || had.storedSize !== want.storedSize) return false;
  return (await store.head(container, name))?.size === want.storedSize;
}

/** Deletes data objects under `prefix` that `entries` does not name (leftovers of an interrupted run). */
async function deleteStrays(store: ObjectStore, container: string, prefix: string, entries: ObjectEntry[]): Promise<void> {
  const keep = new Set([...entries.map((e) => e.name), sha256FileName(prefix), metadataName(prefix)]);
  const strays = ownKeys(await store.list(container, prefix), prefix).filter((k) => !keep.has(k));
  if (strays.length > 0) await store.deleteMany(container, strays);
}

/** Deletes every object under `prefix`; objects already gone are fine. */
export async function deletePrefix(store: ObjectStore, container: string, prefix: string): Promise<void> {
  const keys = ownKeys(await store.list(container, prefix), prefix);
  if (keys.length > 0) await store.deleteMany(container, keys);
}
