import { describe, expect, it } from 'vitest';
import type { JobRow } from '../../src/db/schema.js';
import { isStaleRecord, waitingReason } from '../../src/domain/backups/progress.js';
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

describe('waitingReason (a host-bound job whose host has no live worker)', () => {
  const now = new Date('2026-12-06T07:00:00Z');
  const past = new Date('2026-12-06T06:59:00Z');
  const future = new Date('2026-12-06T07:01:00Z');
  const job = (over: Partial<JobRow>) =>
    ({ id: 7, kind: 'backup', status: 'queued', host_id: 'C', lease_expires_at: null, ...over }) as JobRow;
  const gone = { hostId: 'C', liveWorkers: 0, lastSeenAt: past };
  it.each([
    ['queued, its host gone', job({}), gone, /^waiting for host C: its last worker was seen at 2026-12-06T06:59:00.000Z/],
    ['running under an expired lease, its host gone', job({ status: 'running', lease_expires_at: past }), gone, /^waiting for host C/],
    ['queued, no worker of its host ever seen', job({}), { ...gone, lastSeenAt: null }, /no worker of it has been seen/],
    ['running under a live lease (its worker runs it)', job({ status: 'running', lease_expires_at: future }), gone, null],
    ['queued, its host live', job({}), { ...gone, liveWorkers: 1 }, null],
    ['bound to no host (store-only)', job({ kind: 'verify', host_id: null }), gone, null],
    ['finished', job({ status: 'done' }), gone, null],
  ])('%s', (_name, j, host, expected) => {
    const reason = waitingReason(j, host, now);
    if (expected === null) expect(reason).toBeNull();
    else expect(reason).toMatch(expected);
  });
});
