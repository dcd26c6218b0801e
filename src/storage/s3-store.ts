import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Config } from '../config.js';
import { ObjectNotFoundError, ObjectStoreError, type ObjectStore } from './object-store.js';
import { putMultipart } from './s3-multipart.js';
import { createS3Client, type S3ClientOptions } from './s3-client.js';
import { errorCodeOf, httpStatusOf, storeError } from './store-errors.js';
import { collect, resumableBody, type OpenBody, type OpenedBody } from './resumable-body.js';

/** Everything the S3 store needs; tests set a small threshold and page size. */
export interface S3StoreOptions extends S3ClientOptions {
  bucket: string;
  multipartThreshold: number;
  sseCustomerKey?: string;
  /** MaxKeys per ListObjectsV2 page (S3's maximum is 1000). */
  listPageSize?: number;
}

/** Maps the S3_* settings of Config onto S3StoreOptions. */
export function s3StoreOptionsFromConfig(c: Config): S3StoreOptions {
  return {
    endpoint: c.S3_ENDPOINT,
    region: c.S3_REGION,
    accessKeyId: c.S3_ACCESS_KEY_ID,
    secretAccessKey: c.S3_SECRET_ACCESS_KEY,
    forcePathStyle: c.S3_FORCE_PATH_STYLE,
    checksumMode: c.S3_CHECKSUM_MODE,
    maxAttempts: c.S3_MAX_ATTEMPTS,
    timeoutMs: c.S3_TIMEOUT_MS,
    maxSockets: c.S3_MAX_SOCKETS,
    bucket: c.S3_BUCKET,
    multipartThreshold: c.S3_MULTIPART_THRESHOLD,
    sseCustomerKey: c.S3_SSE_CUSTOMER_KEY,
  };
}

const md5Base64 = (body: Buffer): string => createHash('md5').update(body).digest('base64');
const isNotFound = (err: unknown): boolean => httpStatusOf(err) === 404 || ['NoSuchKey', 'NotFound'].includes(errorCodeOf(err));

/** The S3 store (Cinder's S3BackupDriver): a container is a bucket. */
export class S3ObjectStore implements ObjectStore {
  readonly serviceName = 'cinder.backup.drivers.s3.S3BackupDriver';
  readonly defaultContainer: string;
  readonly wantsContentMd5 = true;
  private readonly client: S3Client;
  /** SSE-C parameters, sent on every request that touches object data. */
  private readonly sse: { SSECustomerAlgorithm?: string; SSECustomerKey?: string };

  constructor(private readonly options: S3StoreOptions) {
    this.defaultContainer = options.bucket;
    this.client = createS3Client(options);
    this.sse = options.sseCustomerKey ? { SSECustomerAlgorithm: 'AES256', SSECustomerKey: options.sseCustomerKey } : {};
  }

  async ensureContainer(container: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: container }));
      return;
    } catch (err) {
      if (!isNotFound(err)) throw storeError('s3', 'head bucket', container, err);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: container }));
    } catch (err) {
      // Another worker may have created it between our HEAD and CREATE.
      if (errorCodeOf(err) !== 'BucketAlreadyOwnedByYou') throw storeError('s3', 'create bucket', container, err);
    }
  }

  async put(container: string, key: string, body: Buffer, options?: { md5?: string }): Promise<void> {
    try {
      if (body.length > this.options.multipartThreshold) {
        await putMultipart(this.client, { Bucket: container, Key: key, ...this.sse }, body);
        return;
      }
      await this.client.send(
        new PutObjectCommand({
          Bucket: container,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentMD5: options?.md5 ?? md5Base64(body),
          ...this.sse,
        }),
      );
    } catch (err) {
      throw storeError('s3', 'put', `${container}/${key}`, err);
    }
  }

  async get(container: string, key: string, range?: { start: number; end: number }, into?: ArrayBuffer): Promise<Buffer> {
    const { open, first, describe } = await this.openFirst(container, key, range);
    return collect(open, first, { start: range?.start ?? 0, end: range?.end }, this.options.maxAttempts, describe, into);
  }

  async getStream(container: string, key: string): Promise<Readable> {
    return this.openStream(container, key);
  }

  async head(container: string, key: string): Promise<{ size: number } | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: container, Key: key, ...this.sse }));
      return { size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storeError('s3', 'head', `${container}/${key}`, err);
    }
  }

  async list(container: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    // Bounded: a server that keeps answering "truncated" without a new token would loop forever.
    for (let page = 0; page < 1_000_000; page++) {
      let out;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({
            Bucket: container,
            Prefix: prefix,
            ContinuationToken: token,
            MaxKeys: this.options.listPageSize ?? 1000,
          }),
        );
      } catch (err) {
        throw storeError('s3', 'list', `${container}/${prefix}*`, err);
      }
      for (const o of out.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      if (!out.IsTruncated) return keys;
      if (!out.NextContinuationToken || out.NextContinuationToken === token) break;
      token = out.NextContinuationToken;
    }
    throw new ObjectStoreError(`s3 list ${container}/${prefix}* failed: pagination did not end`);
  }

  async deleteMany(container: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      let out;
      try {
        out = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: container,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
      } catch (err) {
        throw storeError('s3', 'delete', `${batch.length} objects in ${container}`, err);
      }
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new ObjectStoreError(`s3 delete ${container}/${first.Key} failed: ${first.Code ?? 'UnknownError'}`);
      }
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** GETs an object (or a range) as a length-checked stream that resumes when the body breaks off. */
  private async openStream(container: string, key: string, range?: { start: number; end: number }): Promise<Readable> {
    const { open, first, describe } = await this.openFirst(container, key, range);
    return resumableBody(open, first, { start: range?.start ?? 0, end: range?.end }, this.options.maxAttempts, describe);
  }

  /** Sends the first GET; `open` sends the ones that resume a body which broke off. */
  private async openFirst(
    container: string,
    key: string,
    range?: { start: number; end: number },
  ): Promise<{ open: OpenBody; first: OpenedBody; describe: string }> {
    const target = `${container}/${key}`;
    const send: OpenBody = async (start, end, etag) => {
      const rangeHeader = start === 0 && end === undefined ? undefined : `bytes=${start}-${end ?? ''}`;
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: container, Key: key, Range: rangeHeader, IfMatch: etag, ...this.sse }),
      );
      if (!out.Body || out.ContentLength === undefined) throw new ObjectStoreError(`s3 get ${target}: no body`);
      return { body: out.Body as OpenedBody['body'], length: out.ContentLength, etag: out.ETag };
    };
    let first: OpenedBody;
    try {
      first = await send(range?.start ?? 0, range?.end);
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(container, key);
      throw storeError('s3', 'get', target, err);
    }
    const open: OpenBody = (start, end, etag) =>
      send(start, end, etag).catch((err: unknown) => Promise.reject(storeError('s3', 'get', target, err)));
    return { open, first, describe: `s3 get ${target}` };
  }
}
