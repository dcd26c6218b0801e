import { randomBytes } from 'node:crypto';
import { S3ObjectStore } from '../../src/storage/s3-store.js';

/** Long randomized variants run only with RELIABILITY_LONG=1; the default run stays short. */
export const LONG = process.env.RELIABILITY_LONG === '1';

/** `short` in the default run, `long` under RELIABILITY_LONG=1. */
export const rounds = (short: number, long: number): number => (LONG ? long : short);

/** A base seed for randomized suites: RELIABILITY_SEED replays a failing run. */
export const baseSeed = (): number => Number(process.env.RELIABILITY_SEED ?? Date.now() % 1_000_000);

/** A fresh bucket name. */
export const bucketName = (tag: string): string => `rel-${tag}-${randomBytes(4).toString('hex')}`;

/** An S3 store at `endpoint` with short timeouts, so stalls cost little. */
export function s3Store(endpoint: string, bucket: string, o: { timeoutMs?: number; maxAttempts?: number } = {}): S3ObjectStore {
  return new S3ObjectStore({
    endpoint,
    region: 'us-east-1',
    accessKeyId: 'test',
    secretAccessKey: 'test',
    forcePathStyle: true,
    checksumMode: 'WHEN_REQUIRED',
    maxAttempts: o.maxAttempts ?? 5,
    timeoutMs: o.timeoutMs ?? 1000,
    maxSockets: 8,
    bucket,
    multipartThreshold: 5 * 1024 * 1024,
  });
}

/** Rejects when `p` takes longer than `ms`: a hung operation is a failure, not a wait. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms (hung)`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Prints a figure line for the report (collected from the test output). */
export function report(suite: string, figures: Record<string, unknown>): void {
  process.stdout.write(`[reliability] ${suite}: ${JSON.stringify(figures)}\n`);
}

/** A seeded random pause of 0..maxMs, to shuffle the interleaving of racing requests. */
export function seededRandomDelay(seed: number, maxMs: number): () => Promise<void> {
  let s = seed >>> 0 || 1;
  return async () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const ms = (s / 2 ** 32) * maxMs;
    if (ms >= 1) await new Promise((r) => setTimeout(r, ms));
  };
}
