/**
 * Small async primitives for the data path: a semaphore and a bounded pool of reusable buffers.
 * Both can be shared by many operations: a waiter passes its operation's AbortSignal, so one
 * failed operation stops waiting without disturbing the others.
 */

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

/** Waits in `queue` until resolved, or until `signal` aborts (then leaves the queue and rejects). */
function wait<T>(queue: Array<Waiter<T>>, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const at = queue.indexOf(waiter);
      if (at >= 0) queue.splice(at, 1);
      reject(signal!.reason);
    };
    const waiter: Waiter<T> = {
      resolve(v) {
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      },
      reject,
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    queue.push(waiter);
  });
}

/** Counts permits; `acquire` waits (FIFO, so sharers take turns) while none is free. */
export class Semaphore {
  private readonly waiters: Array<Waiter<void>> = [];
  constructor(private permits: number) {}

  async acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    if (this.permits > 0) {
      this.permits--;
      return;
    }
    await wait(this.waiters, signal);
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.permits++;
  }

  /** Runs `fn` holding one permit. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/**
 * True for a chunk read or decoded into a buffer of its own rather than a pooled one: shorter
 * than 1/32 of a pooled buffer (under 1 MiB with the default 32 MiB objects; the chunk budget
 * still bounds how many exist at once).
 * NOTE: when pooled buffers were transferred, each move to a worker and back counted as new
 * external memory to V8, which then collected garbage every few moves: a file-set backup or
 * restore of a cluster's ~1,000 small files spent more than half its CPU time in the collector.
 * Pooled buffers are shared now (BufferPool); small chunks still keep their own, sized to them.
 */
export function isSmallChunk(length: number, pooledSize: number): boolean {
  return length * 32 < pooledSize;
}

/**
 * At most `capacity` buffers of `size` bytes, allocated on first need and recycled: the hard cap
 * on chunk buffers in memory. A buffer lost with a failed worker task is `forget`-ten, so a
 * replacement may be allocated.
 * The buffers are SharedArrayBuffers (typed as ArrayBuffer: every use here takes either): they go
 * to a worker and back shared, never transferred (worker-protocol.ts transferList). A transferred
 * buffer arrives as a new ArrayBuffer that V8 counts as new external memory, and the next
 * allocation anywhere then sets off a collection: 64 round trips of two 32 MiB buffers cost 193
 * collections and 504 ms by transfer, 3 and 52 ms shared. Nothing detaches a shared buffer while a
 * worker has it, so the callers' rule stands alone: a buffer is in one task at a time, and is
 * released only after that task's reply.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly waiters: Array<Waiter<ArrayBuffer>> = [];
  private allocated = 0;

  constructor(
    private readonly capacity: number,
    readonly size: number,
  ) {}

  async acquire(signal?: AbortSignal): Promise<ArrayBuffer> {
    if (signal?.aborted) throw signal.reason;
    const b = this.free.pop();
    if (b) return b;
    if (this.allocated < this.capacity) {
      this.allocated++;
      return this.allocate();
    }
    return wait(this.waiters, signal);
  }

  release(b: ArrayBuffer): void {
    if (b.byteLength !== this.size) throw new Error(`buffer of ${b.byteLength} bytes returned to a pool of ${this.size}`);
    const w = this.waiters.shift();
    if (w) w.resolve(b);
    else this.free.push(b);
  }

  /** Runs `fn` with one buffer, returned to the pool once `fn` has settled (nothing may view it after). */
  async run<T>(fn: (buffer: ArrayBuffer) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const b = await this.acquire(signal);
    try {
      return await fn(b);
    } finally {
      this.release(b);
    }
  }

  forget(): void {
    const w = this.waiters.shift();
    if (w) w.resolve(this.allocate());
    else this.allocated--;
  }

  private allocate(): ArrayBuffer {
    return new SharedArrayBuffer(this.size) as unknown as ArrayBuffer;
  }

  /** Drops the buffers not in use (their memory goes back once collected); later acquires allocate anew. */
  trim(): void {
    this.allocated -= this.free.length;
    this.free.length = 0;
  }
}
