import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3ClientOptions } from '../../src/storage/s3-client.js';

export interface CapturedRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A loopback HTTP server that records every request and answers like a minimal S3:
 * POST -> an empty DeleteResult, GET -> `getBody`, anything else -> 200 with an ETag.
 * It lets unit tests see exactly what the SDK client puts on the wire.
 */
export async function captureServer(getBody = 'hello'): Promise<{ endpoint: string; seen: CapturedRequest[]; close: () => void }> {
  const seen: CapturedRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.setHeader('etag', '"0123"');
      if (req.method === 'POST') {
        res.setHeader('content-type', 'application/xml');
        res.end('<?xml version="1.0" encoding="UTF-8"?><DeleteResult></DeleteResult>');
      } else if (req.method === 'GET' || req.method === 'HEAD') {
        res.setHeader('content-length', Buffer.byteLength(getBody));
        res.end(req.method === 'GET' ? getBody : undefined);
      } else {
        res.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { endpoint, seen, close: () => server.close() };
}

/** Client options for talking to a capture server: no retries, short timeouts. */
export const captureClientOptions = (endpoint: string): S3ClientOptions => ({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  checksumMode: 'WHEN_REQUIRED',
  maxAttempts: 1,
  timeoutMs: 5000,
  maxSockets: 2,
});
