import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { S3GetHandler } from './s3-get-handler.js';

/** How to reach an S3-compatible server; built from Config by s3StoreOptionsFromConfig. */
export interface S3ClientOptions {
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  checksumMode: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';
  maxAttempts: number;
  timeoutMs: number;
  maxSockets: number;
}

/** The build-step middleware that adds Content-MD5 to DeleteObjects (see addContentMd5). */
type BuildArgs = { request: unknown };
type BuildHandler = (args: BuildArgs) => Promise<unknown>;

/**
 * Adds Content-MD5 to a DeleteObjects request whose body is a string.
 * NOTE: SDK v3 sends only a CRC32 checksum on DeleteObjects; Swift s3api 2.30 (and older
 * Ceph RGW and MinIO) answer 400 "Missing required header: Content-MD5" without this.
 */
export function contentMd5Middleware(next: BuildHandler, context: { commandName?: string }): BuildHandler {
  return async (args) => {
    const request = args.request as { body?: unknown; headers?: Record<string, string> } | undefined;
    if (context.commandName === 'DeleteObjectsCommand' && request?.headers && typeof request.body === 'string') {
      request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
    }
    return next(args);
  };
}

/**
 * Makes an S3Client with keep-alive agents, timeouts, the SDK's standard retry strategy
 * (exponential backoff with jitter on throttling, 5xx, resets and timeouts) and the
 * Content-MD5 middleware. The caller owns the client and must destroy() it.
 */
export function createS3Client(o: S3ClientOptions): S3Client {
  const agentOptions = { keepAlive: true, maxSockets: o.maxSockets };
  const client = new S3Client({
    endpoint: o.endpoint,
    region: o.region,
    forcePathStyle: o.forcePathStyle,
    // Emulators and Swift ignore the signature's identity, but the SDK insists on one.
    credentials: { accessKeyId: o.accessKeyId ?? 'anonymous', secretAccessKey: o.secretAccessKey ?? 'anonymous' },
    requestChecksumCalculation: o.checksumMode,
    responseChecksumValidation: o.checksumMode,
    maxAttempts: o.maxAttempts,
    retryMode: 'standard',
    requestHandler: new S3GetHandler(
      new NodeHttpHandler({
        requestTimeout: o.timeoutMs,
        // NOTE: without these the SDK only logs a warning when requestTimeout passes, so a
        // server that stalls (before headers or mid-body) hangs the operation forever.
        throwOnRequestTimeout: true,
        socketTimeout: o.timeoutMs,
        connectionTimeout: Math.min(o.timeoutMs, 10_000),
        httpAgent: new HttpAgent(agentOptions),
        httpsAgent: new HttpsAgent(agentOptions),
      }),
      o.maxSockets,
      o.timeoutMs,
    ),
  });
  client.middlewareStack.add(contentMd5Middleware as never, { step: 'build', name: 'addContentMD5', priority: 'low' });
  return client;
}
