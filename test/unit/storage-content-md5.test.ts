import { createHash } from 'node:crypto';
import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { contentMd5Middleware, createS3Client } from '../../src/storage/s3-client.js';
import { captureClientOptions, captureServer } from './storage-capture-server.js';

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('base64');

describe('Content-MD5 middleware', () => {
  it('adds the base64 MD5 of the body to a DeleteObjects request', async () => {
    const request = { body: '<Delete><Object><Key>a</Key></Object></Delete>', headers: {} as Record<string, string> };
    await contentMd5Middleware(async (args) => args, { commandName: 'DeleteObjectsCommand' })({ request });
    expect(request.headers['content-md5']).toBe(md5(request.body));
  });

  it('leaves other commands alone', async () => {
    const request = { body: 'x', headers: {} as Record<string, string> };
    await contentMd5Middleware(async (args) => args, { commandName: 'PutObjectCommand' })({ request });
    expect(request.headers).toEqual({});
  });

  it('is installed on the client: DeleteObjects and PutObject reach the wire with Content-MD5', async () => {
    const { endpoint, seen, close } = await captureServer();
    const client = createS3Client(captureClientOptions(endpoint));
    try {
      await client.send(new DeleteObjectsCommand({ Bucket: 'b', Delete: { Objects: [{ Key: 'k1' }, { Key: 'k/2' }], Quiet: true } }));
      const body = Buffer.from('payload');
      await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: body, ContentMD5: md5(body) }));
    } finally {
      client.destroy();
      close();
    }
    const [del, put] = seen;
    expect(del?.method).toBe('POST');
    expect(del?.body).toContain('<Key>k/2</Key>');
    expect(del?.headers['content-md5']).toBe(md5(del!.body));
    expect(put?.headers['content-md5']).toBe(md5('payload'));
  });
});
