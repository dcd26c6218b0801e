import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import { Semaphore } from './concurrency.js';
import { DIGEST_BYTES, sameDigest } from './digest-list.js';
import type { EngineContext } from './engine-context.js';
import {
  OperationCancelledError,
  type BackupLocation,
  type ProgressHooks,
  type RestoreRequest,
  type RestoreResult,
  type VerifyResult,
} from './engine-api.js';
import { ObjectBuffers } from './restore-buffers.js';
import { WriteBehind } from './write-behind.js';
import { integrityError, loadLayer, planFinalMap, type PlannedObject } from './restore-plan.js';
import { WorkerTaskError } from './worker-pool.js';
import { owned, type DecodeResult } from './worker-protocol.js';

/**
 * Fetches one planned object (into its pooled body), decodes it in the pool (into the buffer
 * taken once the object is here, so decode buffers wait on no network) and checks it: every
 * block against the layer's `_sha256file`, and the md5 in `_metadata` only when the hashes cannot
 * cover the object (an offset off the block grid) or disagree (then md5 tells corrupt data from a
 * corrupt hash list).
 */
async function fetchVerified(
  ctx: EngineContext,
  store: ObjectStore,
  p: PlannedObject,
  fetchSlots: Semaphore,
  wantZero: boolean,
  bufs: ObjectBuffers,
  signal: AbortSignal,
): Promise<DecodeResult & { storedBytes: number }> {
  const { entry, layer } = p;
  const into = await bufs.takeBody();
  const stored = await fetchSlots.run(async () => {
    try {
      return await store.get(layer.location.container, entry.name, undefined, into);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw integrityError(`${entry.name} is missing`);
      throw err;
    }
  }, signal);
  ctx.metrics.bytesFetched.inc(stored.length);
  // A view of the pooled body travels as is (its whole buffer lent); anything else is copied if it shares a buffer.
  const bodySent = into !== undefined && stored.buffer === into;
  const data = bodySent ? stored : owned(stored);
  const onGrid = entry.offset % layer.blockSize === 0;
  const out = await bufs.takeOut();
  let r: DecodeResult;
  try {
    r = await ctx.pool.run(
      {
        kind: 'decode',
        data,
        compression: entry.compression,
        length: entry.length,
        blockSize: layer.blockSize,
        wantZeroFlags: wantZero,
        wantMd5: !onGrid,
        out,
      },
      out ? [data.buffer as ArrayBuffer, out] : [data.buffer as ArrayBuffer],
    );
  } catch (err) {
    bufs.lost(bodySent);
    if (err instanceof WorkerTaskError && err.codecError) throw integrityError(`${entry.name}: ${err.message}`);
    throw err;
  }
  bufs.returned(r, bodySent);
  bufs.releaseBodyUnlessIn(r.raw);
  const md5Matches = (): boolean => (r.md5 ?? createHash('md5').update(r.raw).digest('hex')) === entry.md5;
  if (!onGrid && !md5Matches()) throw integrityError(`${entry.name}: md5 mismatch (stored data is corrupt)`);
  if (onGrid) {
    const first = entry.offset / layer.blockSize;
    let bad = -1;
    for (let i = 0; i < r.digests.length / DIGEST_BYTES && bad < 0; i++)
      if (layer.hashes.valid[first + i] !== 1 || !sameDigest(layer.hashes.digests, first + i, r.digests, i)) bad = i;
    if (bad >= 0) {
      if (!md5Matches()) throw integrityError(`${entry.name}: md5 mismatch (stored data is corrupt)`);
      throw integrityError(`${entry.name}: block ${first + bad} does not match its _sha256file`);
    }
  }
  return { ...r, storedBytes: stored.length };
}

/**
 * Absolute [start, end) pieces of `ranges` (within an object stored at `offset`) to write, leaving
 * out the blocks `zero` flags as all zeros when it is given.
 */
export function writeRanges(
  ranges: Array<[number, number]>,
  offset: number,
  blockSize: number,
  zero: Uint8Array | null,
): Array<[number, number]> {
  if (!zero) return ranges;
  const out: Array<[number, number]> = [];
  for (const [s, e] of ranges) {
    let runStart = -1;
    for (let pos = s; pos < e; ) {
      const blockEnd = Math.min(e, offset + (Math.floor((pos - offset) / blockSize) + 1) * blockSize);
      const isZero = zero[Math.floor((pos - offset) / blockSize)] === 1;
      if (!isZero && runStart < 0) runStart = pos;
      if (isZero && runStart >= 0) out.push([runStart, pos]), (runStart = -1);
      pos = blockEnd;
    }
    if (runStart >= 0) out.push([runStart, e]);
  }
  return out;
}

interface PlanOutcome {
  objects: number;
  bytes: number;
  fetched: number;
  written: number;
  volumeMeta: string | null;
}

/**
 * Loads the chain, plans the final block map and streams every planned object through fetch ->
 * decode+verify (pool) -> `target` (positional writes), within the engine-wide chunk budget.
 */
async function runPlan(
  ctx: EngineContext,
  store: ObjectStore,
  chain: BackupLocation[],
  hooks: ProgressHooks,
  target: { fh: FileHandle; isNew: boolean; offset: number; writeBehind: WriteBehind } | null,
): Promise<PlanOutcome> {
  // The chain's documents go through one pooled body buffer, memory the fetches below touch anyway.
  const layers = await ctx.bodies.run(async (scratch) => {
    const loaded = [];
    for (const location of chain) loaded.push(await loadLayer(store, location, scratch));
    return loaded;
  });
  const plan = planFinalMap(layers);
  const total = plan.reduce((n, p) => n + p.ranges.reduce((m, [s, e]) => m + e - s, 0), 0);
  // Objects in flight, their bodies and the buffers they decode into come from the engine-wide
  // budget shared with every other operation (ObjectBuffers); an object longer than a chunk
  // (Cinder's posix driver writes ~2 GB ones) is fetched and decoded into buffers of its own.
  const fetchSlots = new Semaphore(Math.max(1, ctx.options.uploadConcurrency));
  const abort = new AbortController();
  const outcome: PlanOutcome = { objects: 0, bytes: 0, fetched: 0, written: 0, volumeMeta: layers[layers.length - 1]!.volumeMeta };
  const running = new Set<Promise<void>>();
  let failure: unknown = null;
  let cancelled = false;
  const fail = (err: unknown): void => {
    if (failure) return;
    failure = err;
    abort.abort(err);
  };

  for (const p of plan) {
    try {
      await ctx.chunkBudget.acquire(abort.signal);
    } catch {
      break; // failed meanwhile
    }
    if (hooks.shouldCancel && (await hooks.shouldCancel())) {
      ctx.chunkBudget.release();
      cancelled = true;
      break;
    }
    const startedAt = performance.now();
    const task = (async () => {
      const bufs = new ObjectBuffers(ctx, p, abort.signal);
      try {
        await writeDecoded(await fetchVerified(ctx, store, p, fetchSlots, target?.isNew ?? false, bufs, abort.signal), p);
      } finally {
        bufs.releaseAll();
      }
      ctx.metrics.bytesRead.inc({ operation: target ? 'restore' : 'verify' }, p.entry.length);
      ctx.metrics.chunkSeconds.observe({ operation: target ? 'restore' : 'verify' }, (performance.now() - startedAt) / 1000);
      hooks.onProgress?.(outcome.bytes, total, {
        phase: target ? 'restoring' : 'verifying',
        bytesRead: outcome.fetched,
        bytesStored: outcome.written,
      });
    })()
      .catch(fail)
      .finally(() => ctx.chunkBudget.release());
    running.add(task);
    void task.finally(() => running.delete(task));
  }
  while (running.size > 0) await Promise.allSettled([...running]);
  if (failure) throw failure;
  if (cancelled) throw new OperationCancelledError('operation cancelled');
  return outcome;

  async function writeDecoded(r: DecodeResult & { storedBytes: number }, p: PlannedObject): Promise<void> {
    outcome.fetched += r.storedBytes;
    const raw = Buffer.from(r.raw.buffer, r.raw.byteOffset, r.raw.byteLength);
    if (target) {
      for (const [s, e] of writeRanges(p.ranges, p.entry.offset, p.layer.blockSize, target.isNew ? r.zero : null)) {
        const from = s - p.entry.offset;
        for (let done = 0; done < e - s; )
          done += (await target.fh.write(raw, from + done, e - s - done, target.offset + s + done)).bytesWritten;
        outcome.written += e - s;
        target.writeBehind.wrote();
      }
    }
    outcome.objects++;
    outcome.bytes += p.ranges.reduce((m, [s, e]) => m + e - s, 0);
  }
}

/**
 * Restores a chain into `req.target`: verified (sha256 per block; md5 where that cannot cover), each object
 * fetched once, written at its offsets, one fsync at the end. A new target skips all-zero blocks.
 * Throws BackupIntegrityError on any mismatch or missing object, OperationCancelledError on cancel.
 */
export async function runRestore(
  ctx: EngineContext,
  store: ObjectStore,
  req: RestoreRequest,
  hooks: ProgressHooks = {},
): Promise<RestoreResult> {
  const fh = await open(req.target.path, 'r+');
  const writeBehind = new WriteBehind(fh);
  try {
    const target = { fh, isNew: req.targetIsNew, offset: req.target.offset ?? 0, writeBehind };
    const o = await runPlan(ctx, store, req.chain, hooks, target);
    await writeBehind.settle();
    await fh.sync();
    return { bytesWritten: o.written, bytesFetched: o.fetched, volumeMeta: o.volumeMeta };
  } finally {
    await writeBehind.settle().catch(() => {}); // never close under a flush in flight
    await fh.close();
  }
}

/** Runs every check of a restore over the chain without writing anywhere. */
export async function runVerify(
  ctx: EngineContext,
  store: ObjectStore,
  chain: BackupLocation[],
  hooks: ProgressHooks = {},
): Promise<VerifyResult> {
  const o = await runPlan(ctx, store, chain, hooks, null);
  return { objectsChecked: o.objects, bytesChecked: o.bytes };
}
