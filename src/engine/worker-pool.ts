import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  transferList,
  type DecodeResult,
  type DecodeTask,
  type EncodeResult,
  type EncodeTask,
  type WorkerReply,
} from './worker-protocol.js';

/** A task failed inside a worker; `codecError` marks undecodable input (an integrity failure). */
export class WorkerTaskError extends Error {
  override name = 'WorkerTaskError';
  constructor(
    message: string,
    readonly codecError: boolean,
  ) {
    super(message);
  }
}

interface Pending {
  resolve(r: EncodeResult | DecodeResult): void;
  reject(e: Error): void;
}

/**
 * Spawns chunk-worker next to this module: the compiled `.js` in production; under vitest/tsx the
 * `.ts` source, loaded through tsx's ESM hooks registered inside the worker (execArgv `--import`
 * is not honoured for worker entry points on Node 20, so a tiny eval bootstrap does it).
 */
function spawnChunkWorker(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new Worker(new URL('./chunk-worker.js', here));
  const entry = new URL('./chunk-worker.ts', here).href;
  // Resolved from this file, not from the worker's cwd; tsx ships its ESM API beside the CJS one.
  const cjs = createRequire(here).resolve('tsx/esm/api');
  const api = existsSync(cjs.replace(/\.cjs$/, '.mjs')) ? pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href : 'tsx/esm/api';
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true });
}

/**
 * A fixed pool of worker threads with one task at a time per worker. Callers bound how many tasks
 * they submit (the engine-wide memory budget and its BufferPool), so the queue here never grows with volume size.
 */
export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ id: number; task: EncodeTask | DecodeTask; transfer: ArrayBuffer[] }> = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();
  private nextId = 1;
  private closed = false;

  /** How many workers run tasks at once. */
  readonly size: number;

  constructor(size: number) {
    this.size = Math.max(1, size);
    for (let i = 0; i < this.size; i++) this.add();
  }

  private add(): void {
    const w = spawnChunkWorker();
    w.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      this.busy.delete(w);
      if (p) {
        if (reply.error !== undefined) p.reject(new WorkerTaskError(reply.error, reply.codecError));
        else p.resolve(reply.result);
      }
      this.release(w);
    });
    // A crashed worker fails its task and is replaced, so one bad input cannot wedge the pool.
    w.on('error', (err) => this.lost(w, err));
    w.on('exit', (code) => this.lost(w, new Error(`chunk worker exited with code ${code}`)));
    this.release(w);
  }

  private lost(w: Worker, err: Error): void {
    const id = this.busy.get(w);
    const idleAt = this.idle.indexOf(w);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    if (id !== undefined) {
      this.busy.delete(w);
      this.pending.get(id)?.reject(err);
      this.pending.delete(id);
    } else if (idleAt < 0) {
      return; // already handled (error is followed by exit)
    }
    if (!this.closed) this.add();
  }

  private release(w: Worker): void {
    const next = this.queue.shift();
    if (!next) {
      this.idle.push(w);
      return;
    }
    this.busy.set(w, next.id);
    w.postMessage({ id: next.id, task: next.task }, transferList(next.transfer));
  }

  /** Runs one task; the ArrayBuffers in `transfer` move to the worker (unusable here until returned), the shared ones are lent (untouched here until returned). */
  run(task: EncodeTask, transfer: ArrayBuffer[]): Promise<EncodeResult>;
  run(task: DecodeTask, transfer: ArrayBuffer[]): Promise<DecodeResult>;
  run(task: EncodeTask | DecodeTask, transfer: ArrayBuffer[]): Promise<EncodeResult | DecodeResult> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    const id = this.nextId++;
    const promise = new Promise<EncodeResult | DecodeResult>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.queue.push({ id, task, transfer });
    const w = this.idle.pop();
    if (w) this.release(w);
    return promise;
  }

  /** Terminates the workers; tasks still queued are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error('worker pool is closed'));
    this.pending.clear();
    this.queue.length = 0;
    const all = [...this.idle, ...this.busy.keys()];
    await Promise.all(all.map((w) => w.terminate()));
  }
}
