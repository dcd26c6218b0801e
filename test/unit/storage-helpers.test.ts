import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ObjectStoreError } from '../../src/storage/object-store.js';
import { collect, readAll, resumableBody, type OpenBody } from '../../src/storage/resumable-body.js';
import { resolveInside, safeSegments } from '../../src/storage/posix-paths.js';
import { storeError } from '../../src/storage/store-errors.js';

const data = Buffer.from('abcdefghijklmnopqrstuvwxyz');

/** A body that yields `upTo` bytes of `bytes` and then fails (or ends early when `fail` is false). */
function brokenBody(bytes: Buffer, upTo: number, fail = true): AsyncIterable<Uint8Array> {
  return (async function* () {
    yield bytes.subarray(0, upTo);
    if (fail) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  })();
}

describe('collect', () => {
  const parts = (...p: string[]) =>
    (async function* () {
      for (const x of p) yield Buffer.from(x);
    })();
  const once = (length: number, ...p: string[]) => {
    const first = { body: parts(...p), length };
    const open: OpenBody = async () => Promise.reject(new Error('no second request expected'));
    return [open, first] as const;
  };

  it('gathers exactly the announced length into one buffer', async () => {
    expect((await collect(...once(7, 'abc', 'def', 'g'), { start: 0 }, 1, 'x')).toString()).toBe('abcdefg');
  });

  it('refuses more bytes than announced, and fewer', async () => {
    await expect(collect(...once(5, 'abc', 'def'), { start: 0 }, 1, 'get k')).rejects.toThrow('get k: more bytes than Content-Length');
    await expect(collect(...once(5, 'abc'), { start: 0 }, 1, 'get k')).rejects.toThrow('get k: body ended early at 3 of 5 bytes');
  });

  it('collects a resumed body across a reset, into the buffer it is given', async () => {
    const first = { body: brokenBody(data, 10), length: data.length, etag: '"e"' };
    const open: OpenBody = async (start) => ({
      body: (async function* () {
        yield data.subarray(start);
      })(),
      length: data.length - start,
      etag: '"e"',
    });
    const into = new ArrayBuffer(64);
    const out = await collect(open, first, { start: 0 }, 3, 't', into);
    expect(out.equals(data)).toBe(true);
    expect(out.buffer).toBe(into);
  });
});

describe('resumableBody', () => {
  it('re-requests the remainder with a Range pinned to the ETag after a reset', async () => {
    const calls: [number, number | undefined, string | undefined][] = [];
    const open: OpenBody = async (start, end, etag) => {
      calls.push([start, end, etag]);
      const rest = data.subarray(start, (end ?? data.length - 1) + 1);
      return { body: calls.length === 1 ? brokenBody(rest, 3) : Readable.from([rest]), length: rest.length, etag };
    };
    const first = { body: brokenBody(data.subarray(2, 21), 5), length: 19, etag: '"e1"' };
    const out = await readAll(resumableBody(open, first, { start: 2, end: 20 }, 5, 'test'));
    expect(out.toString()).toBe(data.subarray(2, 21).toString());
    expect(calls).toEqual([
      [7, 20, '"e1"'],
      [10, 20, '"e1"'],
    ]);
  });

  it('treats a body that ends before Content-Length as broken, and gives up after maxAttempts', async () => {
    const open: OpenBody = async (start) => ({ body: brokenBody(data.subarray(start), 1, false), length: data.length - start });
    const first = { body: brokenBody(data, 4, false), length: data.length };
    const err = await readAll(resumableBody(open, first, { start: 0 }, 3, 'test')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectStoreError);
    expect((err as Error).message).toBe('test: body ended early at 6 of 26 bytes');
  });

  it('rejects a body longer than its Content-Length', async () => {
    const first = { body: Readable.from([data]), length: 10 };
    const err = await readAll(resumableBody(async () => first, first, { start: 0 }, 3, 'test')).catch((e: unknown) => e);
    expect((err as Error).message).toBe('test: more bytes than Content-Length');
  });
});

describe('posix names', () => {
  it('maps S3-style keys to nested paths inside the root', () => {
    expect(resolveInside('/data/backups', 'ab/cd/id', 'volume_1/2026/az_nova_backup_1-00001')).toBe(
      '/data/backups/ab/cd/id/volume_1/2026/az_nova_backup_1-00001',
    );
    expect(safeSegments('key', 'a/b')).toEqual(['a', 'b']);
  });

  it.each(['..', 'a/..', '../b', '/a', 'a/', 'a//b', '.', 'a\0', 'a\\b', 'k.0123456789abcdef.partial~', ''])(
    'refuses the key %j',
    (key) => {
      expect(() => resolveInside('/data/backups', 'c', key)).toThrow(ObjectStoreError);
    },
  );
});

describe('storeError', () => {
  it('names the operation, target, code and status, never the SDK message, within 200 chars', () => {
    const sdkError = Object.assign(new Error('signature for secret XYZ mismatched'), {
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    const err = storeError('s3', 'put', `b/${'k'.repeat(300)}`, sdkError);
    expect(err.message.startsWith('s3 put b/kkk')).toBe(true);
    expect(err.message).not.toContain('XYZ');
    expect(err.message.length).toBe(200);
    expect(storeError('s3', 'get', 'b/k', sdkError).message).toBe('s3 get b/k failed: SignatureDoesNotMatch (HTTP 403)');
    expect(err.cause).toBe(sdkError);
  });
});
