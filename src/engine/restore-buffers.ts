import { isSmallChunk } from './concurrency.js';
import type { EngineContext } from './engine-context.js';
import type { PlannedObject } from './restore-plan.js';
import type { DecodeResult } from './worker-protocol.js';

/**
 * The pooled buffers one planned object holds: the body its GET fills (from before the GET to the
 * end of its decode) and the buffer a zstd object decodes into (from its decode to the end of its
 * writes). Objects under 1/32 of a pooled buffer, or longer than one, use buffers of their own.
 */
export class ObjectBuffers {
  body: ArrayBuffer | null = null;
  out: ArrayBuffer | null = null;
  private readonly pooled: boolean;

  constructor(
    private readonly ctx: EngineContext,
    private readonly p: PlannedObject,
    private readonly signal: AbortSignal,
  ) {
    const size = ctx.buffers.size;
    this.pooled = !isSmallChunk(p.entry.length, size) && p.entry.length < size;
  }

  async takeBody(): Promise<ArrayBuffer | undefined> {
    if (this.pooled) this.body = await this.ctx.bodies.acquire(this.signal);
    return this.body ?? undefined;
  }

  /** Only zstd decodes into a given buffer; the other codecs allocate. */
  async takeOut(): Promise<ArrayBuffer | null> {
    if (this.pooled && this.p.entry.compression === 'zstd') this.out = await this.ctx.buffers.acquire(this.signal);
    return this.out;
  }

  /** The buffers sent to a worker that did not give them back (a failed task): the pools may replace them. */
  lost(bodySent: boolean): void {
    if (this.body && bodySent) this.ctx.bodies.forget(), (this.body = null);
    if (this.out) this.ctx.buffers.forget(), (this.out = null);
  }

  /** Takes back the buffers a decode returned (new ArrayBuffer objects over the same memory). */
  returned(r: DecodeResult, bodySent: boolean): void {
    if (this.body && bodySent) this.body = r.body;
    if (this.out) this.out = r.out;
  }

  /** Returns the body early, unless the decoded bytes still view it (an object stored raw). */
  releaseBodyUnlessIn(raw: Uint8Array): void {
    if (this.body && raw.buffer !== this.body) this.ctx.bodies.release(this.body), (this.body = null);
  }

  releaseAll(): void {
    if (this.body) this.ctx.bodies.release(this.body);
    if (this.out) this.ctx.buffers.release(this.out);
    this.body = this.out = null;
  }
}
