import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ObjectStoreError } from '../../src/storage/object-store.js';
import { S3ObjectStore, type S3StoreOptions } from '../../src/storage/s3-store.js';
import { uniqueBucket } from './storage-conformance.js';

const moto = inject('motoEndpoint');
const bucket = uniqueBucket('behaviour');
const options = (endpoint: string, extra: Partial<S3StoreOptions> = {}): S3StoreOptions => ({
  endpoint,
  region: 'us-east-1',
  accessKeyId: 'test',
  secretAccessKey: 'test',
  forcePathStyle: true,
  checksumMode: 'WHEN_REQUIRED',
  maxAttempts: 3,
  timeoutMs: 30_000,
  maxSockets: 4,
  bucket,
  multipartThreshold: 5 * 1024 * 1024,
  ...extra,
});
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A loopback TCP proxy to `target` that cuts the next `cuts` connections once `after` bytes
 * have passed in one direction (responses by default, or requests).
 */
async function cuttingProxy(
  target: string,
  after: number,
  direction: 'response' | 'request' = 'response',
): Promise<{ endpoint: string; cuts: { left: number }; server: Server }> {
  const { hostname, port } = new URL(target);
  const cuts = { left: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let sent = 0;
    const [from, to] = direction === 'response' ? [upstream, client] : [client, upstream];
    to.on('data', (d: Buffer) => from.write(d));
    from.on('data', (d: Buffer) => {
      sent += d.length;
      if (cuts.left > 0 && sent > after) {
        cuts.left--;
        to.write(d.subarray(0, d.length - (sent - after)));
        client.destroy();
        upstream.destroy();
        return;
      }
      to.write(d);
    });
    const close = () => (client.destroy(), upstream.destroy());
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const closeAll = server.close.bind(server);
  server.close = (cb) => (sockets.forEach((s) => s.destroy()), closeAll(cb));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, cuts, server };
}

describe.skipIf(moto === null)('S3 store behaviour against moto', () => {
  const store = new S3ObjectStore(options(moto ?? ''));
  const body = randomBytes(4 * 1024 * 1024 + 17);

  beforeAll(async () => {
    await store.ensureContainer(bucket);
    await store.put(bucket, 'resume/obj', body);
  });
  afterAll(() => store.close());

  it('uploads bodies above the threshold as a multipart upload of 8 MiB parts', async () => {
    await store.put(bucket, 'multi', randomBytes(17 * 1024 * 1024));
    const raw = new S3Client({
      endpoint: moto!,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multi' }));
    raw.destroy();
    expect(head.ETag).toMatch(/-3"$/);
    expect(head.ContentLength).toBe(17 * 1024 * 1024);
  });

  it('resumes a GET whose body is cut mid-stream and returns the exact bytes', async () => {
    const proxy = await cuttingProxy(moto!, 1024 * 1024);
    const viaProxy = new S3ObjectStore(options(proxy.endpoint));
    try {
      proxy.cuts.left = 2;
      expect(sha(await viaProxy.get(bucket, 'resume/obj'))).toBe(sha(body));
      expect(proxy.cuts.left).toBe(0);
    } finally {
      await viaProxy.close();
      proxy.server.close();
    }
  });

  it('fails with ObjectStoreError, not short data, when the body keeps breaking off', async () => {
    const proxy = await cuttingProxy(moto!, 512 * 1024);
    const viaProxy = new S3ObjectStore(options(proxy.endpoint, { maxAttempts: 2 }));
    try {
      proxy.cuts.left = 100;
      const err = await viaProxy.get(bucket, 'resume/obj').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObjectStoreError);
      expect((err as Error).message).toMatch(/broke off|ended early/);
    } finally {
      await viaProxy.close();
      proxy.server.close();
    }
  });

  it('aborts a multipart upload whose part upload fails, leaving no pending upload', async () => {
    const proxy = await cuttingProxy(moto!, 2 * 1024 * 1024, 'request');
    const viaProxy = new S3ObjectStore(options(proxy.endpoint, { maxAttempts: 1 }));
    const raw = new S3Client({
      endpoint: moto!,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    try {
      proxy.cuts.left = 1;
      await expect(viaProxy.put(bucket, 'aborted', randomBytes(17 * 1024 * 1024))).rejects.toBeInstanceOf(ObjectStoreError);
      expect(proxy.cuts.left).toBe(0);
      const pending = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      expect(pending.Uploads ?? []).toEqual([]);
      expect(await store.head(bucket, 'aborted')).toBeNull();
    } finally {
      raw.destroy();
      await viaProxy.close();
      proxy.server.close();
    }
  });

  it('reports a failure with a short message that names no credential', async () => {
    const secret = 'SECRET-do-not-leak-0123456789';
    const leaky = new S3ObjectStore(options(moto!, { accessKeyId: 'AKIA-leak-check', secretAccessKey: secret }));
    try {
      const err = await leaky.put('cbt-no-such-bucket-x1', 'k', Buffer.from('x')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObjectStoreError);
      const message = (err as Error).message;
      expect(message).toContain('NoSuchBucket');
      expect(message.length).toBeLessThanOrEqual(255);
      expect(message).not.toContain(secret);
      expect(message).not.toContain('AKIA-leak-check');
    } finally {
      await leaky.close();
    }
  });

  it('deleteMany deletes more than one 1000-key batch', async () => {
    const keys = Array.from({ length: 1003 }, (_, i) => `batch/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => store.put(bucket, k, Buffer.from(k))));
    }
    expect((await store.list(bucket, 'batch/')).length).toBe(1003);
    await store.deleteMany(bucket, [...keys, 'batch/missing']);
    expect(await store.list(bucket, 'batch/')).toEqual([]);
  });
});
