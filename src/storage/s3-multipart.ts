import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

const MIN_PART = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** Parts in flight per upload: the caller already runs several uploads at once. */
const PART_CONCURRENCY = 2;

/** The part size for a body: at least 8 MiB (S3's floor is 5 MiB), at most 10,000 parts. */
export function partSizeFor(length: number): number {
  return Math.max(MIN_PART, Math.ceil(length / MAX_PARTS));
}

/**
 * Uploads `body` as a multipart upload (each part with Content-MD5) and aborts the upload
 * when any step fails, so no orphaned parts are left billed. Throws the SDK error.
 */
export async function putMultipart(
  client: S3Client,
  target: { Bucket: string; Key: string; SSECustomerAlgorithm?: string; SSECustomerKey?: string },
  body: Buffer,
): Promise<void> {
  const created = await client.send(new CreateMultipartUploadCommand(target));
  const UploadId = created.UploadId;
  if (!UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  try {
    const size = partSizeFor(body.length);
    const count = Math.ceil(body.length / size);
    const parts: CompletedPart[] = new Array(count);
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (next < count && !failed) {
        const index = next++;
        const part = body.subarray(index * size, Math.min(body.length, (index + 1) * size));
        const out = await client.send(
          new UploadPartCommand({
            ...target,
            UploadId,
            PartNumber: index + 1,
            Body: part,
            ContentLength: part.length,
            ContentMD5: createHash('md5').update(part).digest('base64'),
          }),
        );
        parts[index] = { PartNumber: index + 1, ETag: out.ETag };
      }
    };
    // Every lane settles before any abort, so no part lands after the upload is gone.
    const lanes = Array.from({ length: Math.min(PART_CONCURRENCY, count) }, () =>
      worker().catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    );
    const failure = (await Promise.allSettled(lanes)).find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    await client.send(
      new CompleteMultipartUploadCommand({
        ...target,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (err) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: target.Bucket, Key: target.Key, UploadId })).catch(() => {}); // the original error is the one worth reporting
    throw err;
  }
}
