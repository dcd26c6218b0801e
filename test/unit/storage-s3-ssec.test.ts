import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../src/storage/s3-store.js';
import { captureClientOptions, captureServer } from './storage-capture-server.js';

// NOTE: neither moto nor Swift s3api enforces SSE-C, so the wire is the only place to check it.
describe('S3 store with S3_SSE_CUSTOMER_KEY', () => {
  it('sends the SSE-C algorithm, key and key MD5 on put, get and head, and not on delete', async () => {
    const key = '0123456789abcdef0123456789abcdef';
    const { endpoint, seen, close } = await captureServer('hello');
    const store = new S3ObjectStore({
      ...captureClientOptions(endpoint),
      bucket: 'b',
      multipartThreshold: 5 * 1024 * 1024,
      sseCustomerKey: key,
    });
    try {
      await store.put('b', 'k', Buffer.from('hello'));
      expect((await store.get('b', 'k')).toString()).toBe('hello');
      expect(await store.head('b', 'k')).toEqual({ size: 5 });
      await store.deleteMany('b', ['k']);
    } finally {
      await store.close();
      close();
    }
    expect(seen.map((r) => r.method)).toEqual(['PUT', 'GET', 'HEAD', 'POST']);
    for (const r of seen.slice(0, 3)) {
      expect(r.headers['x-amz-server-side-encryption-customer-algorithm']).toBe('AES256');
      expect(r.headers['x-amz-server-side-encryption-customer-key']).toBe(Buffer.from(key).toString('base64'));
      expect(r.headers['x-amz-server-side-encryption-customer-key-md5']).toBe(createHash('md5').update(key).digest('base64'));
    }
    expect(seen[0]?.headers['content-md5']).toBe(createHash('md5').update('hello').digest('base64'));
    expect(seen[3]?.headers['x-amz-server-side-encryption-customer-key']).toBeUndefined();
  });
});
