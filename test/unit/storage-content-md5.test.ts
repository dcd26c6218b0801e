import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { contentMd5Middleware, createS3Client } from '../../src/storage/s3-client.js';

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
    const seen: { method?: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method, headers: req.headers, body });
        res.setHeader('content-type', 'application/xml');
        res.end(req.method === 'POST' ? '<?xml version="1.0" encoding="UTF-8"?><DeleteResult></DeleteResult>' : '');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = createS3Client({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      checksumMode: 'WHEN_REQUIRED',
      maxAttempts: 1,
      timeoutMs: 5000,
      maxSockets: 2,
    });
    try {
      await client.send(new DeleteObjectsCommand({ Bucket: 'b', Delete: { Objects: [{ Key: 'k1' }, { Key: 'k/2' }], Quiet: true } }));
      const body = Buffer.from('payload');
      await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: body, ContentMD5: md5(body) }));
    } finally {
      client.destroy();
      server.close();
    }
    const [del, put] = seen;
    expect(del?.method).toBe('POST');
    expect(del?.body).toContain('<Key>k/2</Key>');
    expect(del?.headers['content-md5']).toBe(md5(del!.body));
    expect(put?.headers['content-md5']).toBe(md5('payload'));
  });
});
