/** Small async primitives for the data path: a semaphore and a bounded ring of reusable buffers. */

/** Counts permits; `acquire` waits while none is free. */
export class Semaphore {
  private waiters: Array<() => void> = [];
  private opened = false;
  constructor(private permits: number) {}

  /** Lets every waiter, present and future, through: a failed pipeline must not wait for permits. */
  open(): void {
    this.opened = true;
    for (const w of this.waiters.splice(0)) w();
  }

  async acquire(): Promise<void> {
    if (this.opened) return;
    if (this.permits > 0) {
      this.permits--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.permits++;
  }

  /** Runs `fn` holding one permit. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/**
 * At most `capacity` ArrayBuffers of `size` bytes, allocated on first need and recycled: the hard
 * cap on chunks in memory. `fail` wakes every waiter with the error, so a failed pipeline cannot hang.
 */
export class BufferRing {
  private free: ArrayBuffer[] = [];
  private allocated = 0;
  private waiters: Array<{ resolve(b: ArrayBuffer): void; reject(e: Error): void }> = [];
  private failure: Error | null = null;

  constructor(
    private readonly capacity: number,
    private readonly size: number,
  ) {}

  async acquire(): Promise<ArrayBuffer> {
    if (this.failure) throw this.failure;
    const b = this.free.pop();
    if (b) return b;
    if (this.allocated < this.capacity) {
      this.allocated++;
      return new ArrayBuffer(this.size);
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(b: ArrayBuffer): void {
    const w = this.waiters.shift();
    if (w) w.resolve(b);
    else this.free.push(b);
  }

  /** A buffer was lost (e.g. with a failed worker task): one more may be allocated in its place. */
  forget(): void {
    const w = this.waiters.shift();
    if (w) w.resolve(new ArrayBuffer(this.size));
    else this.allocated--;
  }

  fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}
