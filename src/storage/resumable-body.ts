import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ObjectStoreError } from './object-store.js';

/** One GET response: its body, its Content-Length and the object's ETag. */
export interface OpenedBody {
  body: AsyncIterable<Uint8Array>;
  length: number;
  etag?: string;
}

/** Issues a GET for bytes [start, end] (end undefined = to the end), pinned to `etag` when given. */
export type OpenBody = (start: number, end: number | undefined, etag?: string) => Promise<OpenedBody>;

/** Full-jitter exponential backoff: a random wait in [0, min(cap, base * 2^attempt)). */
export function backoffMs(attempt: number, baseMs = 100, capMs = 10_000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

/**
 * Streams a GET body and checks that exactly Content-Length bytes arrive. When the body
 * breaks off (reset, timeout, early end) it re-requests the rest with a Range pinned to the
 * same ETag, at most `maxAttempts` times in all.
 * NOTE: the SDK retries a request only until its headers arrive; a body cut mid-stream
 * would otherwise surface as short data or a bare socket error.
 */
export function resumableBody(
  open: OpenBody,
  first: OpenedBody,
  range: { start: number; end?: number },
  maxAttempts: number,
  describe: string,
): Readable {
  return Readable.from(resumableChunks(open, first, range, maxAttempts, describe), { objectMode: false });
}

/** resumableBody's chunks without the stream around them (for callers that collect the whole body). */
export function resumableChunks(
  open: OpenBody,
  first: OpenedBody,
  range: { start: number; end?: number },
  maxAttempts: number,
  describe: string,
): AsyncGenerator<Uint8Array> {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const expected = first.length;
    let received = 0;
    let current: OpenedBody = first;
    for (let attempt = 1; ; attempt++) {
      let failure: unknown;
      const wanted = expected - received;
      let got = 0;
      try {
        for await (const chunk of current.body) {
          got += chunk.byteLength;
          if (got > wanted) throw new ObjectStoreError(`${describe}: more bytes than Content-Length`);
          received += chunk.byteLength;
          yield chunk;
        }
      } catch (err) {
        if (err instanceof ObjectStoreError) throw err;
        failure = err;
      }
      if (received === expected) return;
      if (attempt >= maxAttempts) {
        const why = failure === undefined ? 'body ended early' : 'body broke off';
        throw new ObjectStoreError(`${describe}: ${why} at ${received} of ${expected} bytes`, { cause: failure });
      }
      await sleep(backoffMs(attempt));
      current = await open(range.start + received, range.end, first.etag);
      if (current.length !== expected - received) {
        throw new ObjectStoreError(`${describe}: object changed while being read`);
      }
    }
  }
  return chunks();
}

/** Collects a stream into one Buffer. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/**
 * Collects exactly `length` bytes of `chunks` into one buffer allocated up front (or `into` when it
 * is large enough): each network chunk is copied once and can be collected at once (holding them
 * all for a concat kept the garbage collector busy: 18 % of a restore's main thread from moto).
 */
export async function collect(chunks: AsyncIterable<Uint8Array>, length: number, describe: string, into?: ArrayBuffer): Promise<Buffer> {
  const out = into && into.byteLength >= length ? Buffer.from(into, 0, length) : Buffer.allocUnsafeSlow(length);
  let at = 0;
  for await (const c of chunks) {
    if (at + c.byteLength > length) throw new ObjectStoreError(`${describe}: more bytes than Content-Length`);
    out.set(c, at);
    at += c.byteLength;
  }
  if (at !== length) throw new ObjectStoreError(`${describe}: body ended early at ${at} of ${length} bytes`);
  return out;
}
