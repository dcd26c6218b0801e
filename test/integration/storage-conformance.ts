import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectNotFoundError, ObjectStoreError, type ObjectStore } from '../../src/storage/object-store.js';
import { readAll } from '../../src/storage/resumable-body.js';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { readInto } from '../../src/storage/direct-http.js';
import { createS3Client, type S3ClientOptions } from '../../src/storage/s3-client.js';
import { S3ObjectStore } from '../../src/storage/s3-store.js';

/** What a conformance run needs: a store (or null to skip) and a container of its own. */
export interface ConformanceTarget {
  store: ObjectStore;
  container: string;
  /** Bodies above this go multipart (S3); the suite puts one object larger than it. */
  multipartThreshold: number;
  /** For an S3 store: how its client reaches the server. */
  s3?: S3ClientOptions;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const PREFIX = 'volume_3a8f2c1d/20261122101504/az_nova_backup_9d2b4f7e';

/**
 * The behaviour every ObjectStore must share, as one describe block per target.
 * `make` returns null when the target's server is not available (the block is skipped).
 */
export function describeObjectStore(name: string, make: () => ConformanceTarget | null): void {
  const target = make();
  describe.skipIf(target === null)(`ObjectStore conformance: ${name}`, () => {
    const { store, container, multipartThreshold, s3 } = target ?? ({} as ConformanceTarget);
    // A skipped block is still collected: size nothing when there is no target.
    const large = target ? randomBytes(multipartThreshold * 2 + 12345) : Buffer.alloc(0);

    beforeAll(async () => {
      await store.ensureContainer(container);
    });
    afterAll(async () => {
      await store.close();
    });

    it('ensureContainer is idempotent', async () => {
      await store.ensureContainer(container);
      await store.ensureContainer(container);
      expect(await store.list(container, 'nothing-here/')).toEqual([]);
    });

    it('put then get returns the same bytes, for small and empty objects', async () => {
      const small = randomBytes(70_001);
      await store.put(container, `${PREFIX}-00001`, small);
      await store.put(container, 'empty', Buffer.alloc(0));
      expect(sha(await store.get(container, `${PREFIX}-00001`))).toBe(sha(small));
      expect((await store.get(container, 'empty')).length).toBe(0);
      expect(await store.head(container, `${PREFIX}-00001`)).toEqual({ size: small.length });
    });

    it('put with a caller-given md5 stores the body, and a re-put replaces it', async () => {
      const first = Buffer.from('first version');
      const second = Buffer.from('second, longer version');
      await store.put(container, 'reput', first, { md5: createHash('md5').update(first).digest('base64') });
      await store.put(container, 'reput', second);
      expect((await store.get(container, 'reput')).toString()).toBe('second, longer version');
    });

    it('an object larger than the multipart threshold round-trips byte-exact', async () => {
      await store.put(container, `${PREFIX}-00002`, large);
      expect(await store.head(container, `${PREFIX}-00002`)).toEqual({ size: large.length });
      expect(sha(await store.get(container, `${PREFIX}-00002`))).toBe(sha(large));
      expect(sha(await readAll(await store.getStream(container, `${PREFIX}-00002`)))).toBe(sha(large));
    });

    it('a range get returns exactly the inclusive range, also across a part boundary', async () => {
      await store.put(container, `${PREFIX}-00003`, large);
      const boundary = 8 * 1024 * 1024;
      const ranges = [
        { start: 0, end: 0 },
        { start: 100, end: 4195 },
        { start: boundary - 10, end: boundary + 10 },
        { start: large.length - 7, end: large.length - 1 },
      ];
      for (const r of ranges) {
        const got = await store.get(container, `${PREFIX}-00003`, r);
        expect(got.equals(large.subarray(r.start, r.end + 1))).toBe(true);
      }
    });

    it('get into a caller buffer reads a body that fits into it, and gives a longer one a buffer of its own', async () => {
      // The multipart object: a range of a single-part one makes moto send the whole object's Content-MD5.
      await store.put(container, `${PREFIX}-00004`, large);
      const into = new ArrayBuffer(large.length + 100);
      const whole = await store.get(container, `${PREFIX}-00004`, undefined, into);
      expect(whole.buffer).toBe(into);
      expect(whole.byteOffset).toBe(0);
      expect(sha(whole)).toBe(sha(large));
      const part = await store.get(container, `${PREFIX}-00004`, { start: 10, end: 5009 }, into);
      expect(part.buffer).toBe(into);
      expect(part.equals(large.subarray(10, 5010))).toBe(true);
      const small = new ArrayBuffer(large.length - 1);
      const own = await store.get(container, `${PREFIX}-00004`, undefined, small);
      expect(own.buffer).not.toBe(small);
      expect(sha(own)).toBe(sha(large));
    });

    it('head of an absent key is null; get and getStream of it throw ObjectNotFoundError', async () => {
      expect(await store.head(container, 'absent/key')).toBeNull();
      await expect(store.get(container, 'absent/key')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.get(container, 'absent/key', { start: 0, end: 9 })).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.getStream(container, 'absent/key')).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('list returns every key under a prefix in lexical order, across pages', async () => {
      const keys = Array.from({ length: 11 }, (_, i) => `list/volume_a/${String(i).padStart(5, '0')}`);
      keys.push('list/volume_a/zz_metadata', 'list/volume_a/sub/deeper');
      const others = ['list/volume_b/00001', 'list/volume_ab', 'list-other'];
      for (const k of [...keys, ...others].reverse()) await store.put(container, k, Buffer.from(k));
      expect(await store.list(container, 'list/volume_a/')).toEqual([...keys].sort());
      expect(await store.list(container, 'list/volume_a')).toEqual([...keys, 'list/volume_ab'].sort());
      expect(await store.list(container, 'list/volume_a/0000')).toEqual(keys.slice(0, 10));
      expect(await store.list(container, 'list/volume_c/')).toEqual([]);
    });

    it('deleteMany removes present keys and ignores missing ones', async () => {
      const keys = ['del/a/1', 'del/a/2', 'del/b/1'];
      for (const k of keys) await store.put(container, k, Buffer.from(k));
      await store.put(container, 'del/keep', Buffer.from('keep'));
      await store.deleteMany(container, [...keys, 'del/missing', 'del/a/missing/too']);
      for (const k of keys) expect(await store.head(container, k)).toBeNull();
      expect(await store.list(container, 'del/')).toEqual(['del/keep']);
      await store.deleteMany(container, keys); // all gone already: still no error
      await store.deleteMany(container, []);
    });

    it('a range starting past the end of an object fails as ObjectStoreError', async () => {
      await store.put(container, 'short', Buffer.from('0123456789'));
      await expect(store.get(container, 'short', { start: 50, end: 60 })).rejects.toBeInstanceOf(ObjectStoreError);
    });

    it.skipIf(!s3 || s3.checksumMode !== 'WHEN_REQUIRED')(
      "GetObject's body is one the direct client reads straight into memory (no fallback to the SDK's handler)",
      async () => {
        await store.put(container, `${PREFIX}-00005`, large);
        const client = createS3Client(s3!);
        try {
          const out = await client.send(new GetObjectCommand({ Bucket: container, Key: `${PREFIX}-00005` }));
          const body = out.Body as unknown as { [readInto]: (t: Uint8Array) => Promise<number> };
          expect(readInto in body).toBe(true);
          const target = new Uint8Array(new SharedArrayBuffer(large.length));
          expect(await body[readInto](target)).toBe(large.length);
          expect(sha(Buffer.from(target))).toBe(sha(large));
        } finally {
          client.destroy();
        }
      },
    );
  });
}

/** An S3 store against a loopback test server, with a 5 MiB multipart threshold and 3-key list pages. */
export function s3Target(
  endpoint: string | null,
  options: { checksumMode: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED'; bucket: string; accessKeyId?: string; secretAccessKey?: string },
): ConformanceTarget | null {
  if (endpoint === null) return null;
  const multipartThreshold = 5 * 1024 * 1024;
  const s3: S3ClientOptions = {
    endpoint,
    region: 'us-east-1',
    accessKeyId: options.accessKeyId ?? 'test',
    secretAccessKey: options.secretAccessKey ?? 'test',
    forcePathStyle: true,
    checksumMode: options.checksumMode,
    maxAttempts: 3,
    timeoutMs: 30_000,
    maxSockets: 8,
  };
  const store = new S3ObjectStore({ ...s3, bucket: options.bucket, multipartThreshold, listPageSize: 3 });
  return { store, container: options.bucket, multipartThreshold, s3 };
}

/** A bucket name unique to one test run: S3 rules (lowercase, digits, hyphens, 3-63 chars). */
export const uniqueBucket = (label: string): string => `cbt-${label}-${randomBytes(4).toString('hex')}`;
