import { describe, expect, it } from 'vitest';
import { needsFullByInterval, planPrune, type ChainBackup } from '../../src/domain/cbr/retention/chains.js';
import { parseUtcOffset, retentionRule, type OperationDefinition } from '../../src/domain/cbr/retention/rules.js';
import { periodKey, selectPruned } from '../../src/domain/cbr/retention/select.js';

const H = 3_600_000;
const D = 24 * H;
const now = new Date('2026-06-15T12:00:00Z'); // a Monday
/** One backup a day at 02:00 UTC for `days` days back from `now` (day 0 = today), named by its date. */
function daily(days: number, hour = 2) {
  return Array.from({ length: days }, (_, k) => {
    const at = new Date(Date.UTC(2026, 5, 15 - k, hour));
    return { id: at.toISOString().slice(0, 10), createdAt: at };
  });
}
function kept(def: OperationDefinition, list = daily(60), at = now): string[] {
  const pruned = selectPruned(retentionRule(def), list, at);
  return list
    .filter((b) => !pruned.has(b.id))
    .map((b) => b.id)
    .sort();
}

describe('retention selection', () => {
  it.each<[string, OperationDefinition, number]>([
    ['keep forever when no limit is set', {}, 60],
    ['keep forever with -1/-1', { max_backups: -1, retention_duration_days: -1 }, 60],
    ['GFS alone does not limit', { day_backups: 3, timezone: 'UTC+00:00' }, 60],
    ['max_backups', { max_backups: 5 }, 5],
    ['max_backups 1', { max_backups: 1 }, 1],
    ['retention_duration_days 7 (older than 7 x 24 h)', { retention_duration_days: 7 }, 7],
    ['both: the stricter wins', { max_backups: 10, retention_duration_days: 3 }, 3],
    ['both: the stricter wins (count)', { max_backups: 2, retention_duration_days: 30 }, 2],
  ])('%s', (_, def, n) => {
    expect(kept(def)).toHaveLength(n);
    expect(kept(def)).toEqual(
      daily(n)
        .map((b) => b.id)
        .sort(),
    );
  });

  it('day_backups keeps the newest of each of the last N days, exempt from max_backups and not counted by it', () => {
    const list = [...daily(10, 2), ...daily(10, 14).map((b) => ({ ...b, id: b.id + 'pm' }))];
    // at 12:00 today's 14:00 backup does not exist yet
    const past = list.filter((b) => b.createdAt <= now);
    const got = kept({ max_backups: 2, day_backups: 3, timezone: 'UTC+00:00' }, past);
    // GFS: newest of 06-15 (02:00), 06-14 (14:00), 06-13 (14:00); then max 2 of the rest: 06-14 02:00, 06-13 02:00
    expect(got).toEqual(['2026-06-13', '2026-06-13pm', '2026-06-14', '2026-06-14pm', '2026-06-15'].sort());
  });

  it('week, month and year rules (weeks start on Monday)', () => {
    const list = daily(800);
    expect(kept({ max_backups: 1, week_backups: 3, timezone: 'UTC+00:00' }, list)).toEqual([
      '2026-06-07',
      '2026-06-13',
      '2026-06-14',
      '2026-06-15',
    ]);
    expect(kept({ max_backups: 1, month_backups: 3, timezone: 'UTC+00:00' }, list)).toEqual([
      '2026-04-30',
      '2026-05-31',
      '2026-06-14',
      '2026-06-15',
    ]);
    expect(kept({ max_backups: 1, year_backups: 3, timezone: 'UTC+00:00' }, list)).toEqual([
      '2024-12-31',
      '2025-12-31',
      '2026-06-14',
      '2026-06-15',
    ]);
    expect(
      kept({ retention_duration_days: 1, day_backups: 2, week_backups: 2, month_backups: 2, year_backups: 2, timezone: 'UTC+00:00' }, list),
    ).toEqual(['2025-12-31', '2026-05-31', '2026-06-14', '2026-06-15']);
  });

  it('the timezone moves day boundaries', () => {
    // every 12 h from 06-14T20:00Z back; in UTC+08:00 the 20:00Z ones fall on the next local day
    const list = Array.from({ length: 5 }, (_, k) => ({ id: `b${k}`, createdAt: new Date(now.getTime() - 16 * H - k * 12 * H) }));
    // b0 06-14T20:00Z, b1 06-14T08:00Z, b2 06-13T20:00Z, b3 06-13T08:00Z, b4 06-12T20:00Z
    expect(kept({ max_backups: 1, day_backups: 2, timezone: 'UTC+00:00' }, list, now)).toEqual(['b0', 'b1']);
    expect(kept({ max_backups: 1, day_backups: 2, timezone: 'UTC+08:00' }, list, now)).toEqual(['b0', 'b1', 'b2']);
    expect(kept({ max_backups: 1, day_backups: 2, timezone: 'UTC-10:00' }, list, now)).toEqual(['b0', 'b1']);
  });

  it('periodKey and timezone parsing', () => {
    expect(periodKey('week', new Date('2026-06-15T00:00:00Z'), 0)).toBe(periodKey('week', new Date('2026-06-21T23:59:59Z'), 0));
    expect(periodKey('week', new Date('2026-06-14T23:59:59Z'), 0)).toBe(periodKey('week', new Date('2026-06-15T00:00:00Z'), 0) - 1);
    expect(periodKey('day', new Date('2026-06-14T20:00:00Z'), 480)).toBe(periodKey('day', new Date('2026-06-15T01:00:00Z'), 0));
    expect(parseUtcOffset('UTC+08:00')).toBe(480);
    expect(parseUtcOffset('UTC-05:30')).toBe(-330);
    for (const bad of ['UTC+8', 'GMT+08:00', 'UTC+15:00', 'UTC+08:60', 'utc+08:00'])
      expect(() => parseUtcOffset(bad)).toThrow('Invalid timezone');
  });
});

describe('pruning against incremental chains', () => {
  const b = (id: string, parentId: string | null, hour: number, status = 'available'): ChainBackup => ({
    id,
    parentId,
    status,
    createdAt: new Date(hour * H),
  });
  it.each<[string, ChainBackup[], string[], string[], string[], boolean]>([
    ['a leaf is deleted now', [b('f', null, 1), b('i1', 'f', 2)], ['i1'], ['i1'], [], false],
    [
      'a parent with a kept child is deferred, newest chain holds it: force full',
      [b('f', null, 1), b('i1', 'f', 2)],
      ['f'],
      [],
      ['f'],
      true,
    ],
    [
      'a chain pruned whole: only its leaf now',
      [b('f', null, 1), b('i1', 'f', 2), b('i2', 'i1', 3), b('g', null, 4)],
      ['f', 'i1', 'i2'],
      ['i2'],
      ['f', 'i1'],
      false,
    ],
    ['a manual child defers its pruned parent', [b('f', null, 1), b('m', 'f', 2), b('g', null, 3)], ['f'], [], ['f'], false],
    ['a deleting child still defers', [b('f', null, 1), b('i1', 'f', 2, 'deleting'), b('g', null, 3)], ['f'], [], ['f'], false],
    ['a non-available pruned backup is left alone', [b('f', null, 1, 'restoring'), b('g', null, 3)], ['f'], [], [], false],
  ])('%s', (_, live, pruned, now, deferred, full) => {
    expect(planPrune(new Set(pruned), live)).toEqual({ deleteNow: now, deferred, forceFull: full });
  });

  it('full_backup_interval counts the incrementals of the newest chain', () => {
    const chain = [b('f', null, 1), b('i1', 'f', 2), b('i2', 'i1', 3)];
    expect(needsFullByInterval(-1, chain)).toBe(false);
    expect(needsFullByInterval(0, chain)).toBe(true);
    expect(needsFullByInterval(2, chain)).toBe(true);
    expect(needsFullByInterval(3, chain)).toBe(false);
    expect(needsFullByInterval(0, [])).toBe(false);
  });
});
