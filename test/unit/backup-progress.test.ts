import { describe, expect, it } from 'vitest';
import type { JobRow } from '../../src/db/schema.js';
import { isStaleRecord } from '../../src/domain/backups/progress.js';
import { currentRate } from '../../src/domain/backups/worker/progress-hooks.js';

describe('currentRate (the progress extension current MiB/s)', () => {
  it('is 0 until a second has passed, then the rate over the last ten seconds only', () => {
    const samples: Array<[number, number]> = [];
    expect(currentRate(samples, 0, 0)).toBe(0);
    expect(currentRate(samples, 500, 50)).toBe(0);
    expect(currentRate(samples, 1000, 100)).toBe(100);
    // Fast for ten seconds, then slow: the old fast samples leave the window.
    for (let t = 2000; t <= 10_000; t += 1000) currentRate(samples, t, t / 10);
    for (let t = 11_000; t <= 30_000; t += 1000) currentRate(samples, t, 1000 + (t - 10_000) / 1000);
    expect(currentRate(samples, 31_000, 1021)).toBeCloseTo(1, 0);
    expect(samples.length).toBeLessThanOrEqual(12);
  });
});

describe('isStaleRecord (a record of an earlier run is never shown)', () => {
  const job = (over: Partial<JobRow>) => ({ id: 7, status: 'running', attempts: 2, ...over }) as JobRow;
  it.each([
    ['written by this attempt of the running job', { progress_job_id: 7, progress_attempt: 2 }, {}, false],
    ['written by an earlier attempt (takeover)', { progress_job_id: 7, progress_attempt: 1 }, {}, true],
    ['written by another job', { progress_job_id: 6, progress_attempt: 2 }, {}, true],
    ['its job was given back to the queue', { progress_job_id: 7, progress_attempt: 2 }, { status: 'queued' }, true],
    ['its job finished', { progress_job_id: 7, progress_attempt: 1 }, { status: 'done' }, false],
    ['written before records named their job, that job done', { progress_job_id: null, progress_attempt: null }, { status: 'done' }, false],
    [
      'written before records named their job, a new one queued',
      { progress_job_id: null, progress_attempt: null },
      { status: 'queued' },
      true,
    ],
  ])('%s', (_name, row, over, stale) => {
    expect(isStaleRecord(row, job(over))).toBe(stale);
  });
});
