import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { readInto } from './direct-http.js';
import { ObjectStoreError } from './object-store.js';

/** A body that can be read straight into the caller's memory (see DirectBody). */
interface DirectReadable {
  [readInto](target: Uint8Array): Promise<number>;
  failure?: Error;
}

/** One GET response: its body, its Content-Length and the object's ETag. */
export interface OpenedBody {
  body: AsyncIterable<Uint8Array> | (AsyncIterable<Uint8Array> & DirectReadable);
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

/** resumableBody's chunks without the stream around them. */
function resumableChunks(
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
      current = await reopenRest(open, first, range, received, attempt, maxAttempts, describe, failure);
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
 * Gives up on a body that broke off after `attempt` tries, or waits and opens the rest of it
 * (pinned to the first response's ETag).
 */
async function reopenRest(
  open: OpenBody,
  first: OpenedBody,
  range: { start: number; end?: number },
  received: number,
  attempt: number,
  maxAttempts: number,
  describe: string,
  failure: unknown,
): Promise<OpenedBody> {
  const expected = first.length;
  if (attempt >= maxAttempts) {
    const why = failure === undefined ? 'body ended early' : 'body broke off';
    throw new ObjectStoreError(`${describe}: ${why} at ${received} of ${expected} bytes`, { cause: failure });
  }
  await sleep(backoffMs(attempt));
  const rest = await open(range.start + received, range.end, first.etag);
  if (rest.length !== expected - received) throw new ObjectStoreError(`${describe}: object changed while being read`);
  return rest;
}

/**
 * Reads exactly Content-Length bytes of a GET into one buffer allocated up front (or `into`
 * when it is large enough), resuming a body that breaks off as resumableChunks does. A direct
 * body is read straight into that buffer; any other is copied in chunk by chunk, each chunk
 * free to be collected at once (holding them all for a concat kept the garbage collector busy:
 * 18 % of a restore's main thread from moto).
 */
export async function collect(
  open: OpenBody,
  first: OpenedBody,
  range: { start: number; end?: number },
  maxAttempts: number,
  describe: string,
  into?: ArrayBuffer,
): Promise<Buffer> {
  const expected = first.length;
  const out = into && into.byteLength >= expected ? Buffer.from(into, 0, expected) : Buffer.allocUnsafeSlow(expected);
  let received = 0;
  let current = first;
  for (let attempt = 1; ; attempt++) {
    const { got, failure } = await fill(current.body, out.subarray(received), describe);
    received += got;
    if (received === expected) return out;
    current = await reopenRest(open, first, range, received, attempt, maxAttempts, describe, failure);
  }
}

/** Reads one response body into the start of `target`; says how much arrived and, if short, why. */
async function fill(body: OpenedBody['body'], target: Buffer, describe: string): Promise<{ got: number; failure?: unknown }> {
  if (readInto in body) {
    const got = await body[readInto](target);
    return { got, failure: body.failure };
  }
  let got = 0;
  try {
    for await (const c of body) {
      if (got + c.byteLength > target.length) throw new ObjectStoreError(`${describe}: more bytes than Content-Length`);
      target.set(c, got);
      got += c.byteLength;
    }
  } catch (err) {
    if (err instanceof ObjectStoreError) throw err;
    return { got, failure: err };
  }
  return { got };
}
