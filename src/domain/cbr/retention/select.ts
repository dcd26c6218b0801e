import type { RetentionRule } from './rules.js';

/** One scheduler-made (`cbr_auto_trigger`) available backup of one volume. */
export interface RetentionCandidate {
  readonly id: string;
  readonly createdAt: Date;
}

const DAY_MS = 86_400_000;
type Period = 'day' | 'week' | 'month' | 'year';

/** Calendar period number of an instant in the policy's fixed UTC offset; weeks start on Monday. */
export function periodKey(period: Period, at: Date, utcOffsetMinutes: number): number {
  const local = at.getTime() + utcOffsetMinutes * 60_000;
  const day = Math.floor(local / DAY_MS);
  if (period === 'day') return day;
  if (period === 'week') return Math.floor((day + 3) / 7); // 1970-01-01 was a Thursday: day 0 is in week 0 (Mon 1969-12-29)
  const d = new Date(local);
  return period === 'month' ? d.getUTCFullYear() * 12 + d.getUTCMonth() : d.getUTCFullYear();
}

function newestFirst(a: RetentionCandidate, b: RetentionCandidate): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * The ids of one volume's scheduled backups that retention removes at `now`. Semantics (Huawei CBR's
 * documented behaviour for a policy's operation_definition):
 * - with neither `max_backups` nor `retention_duration_days` set (-1), every backup is kept forever;
 * - "advanced" GFS rules keep the newest backup of each of the last N calendar days/weeks/months/years
 *   (the current period counts as the first) in the policy's timezone; those backups are exempt from both limits
 *   and are not counted by `max_backups`;
 * - of the others, newest first, the ones beyond `max_backups` and the ones older than
 *   `retention_duration_days` x 24 h are removed.
 * Manual backups are never candidates (the caller passes only scheduler-made ones).
 */
export function selectPruned(rule: RetentionRule, candidates: readonly RetentionCandidate[], now: Date): Set<string> {
  const pruned = new Set<string>();
  if (rule.maxBackups < 0 && rule.retentionDurationDays < 0) return pruned;
  const sorted = [...candidates].sort(newestFirst);
  const exempt = new Set<string>();
  const gfs: [Period, number][] = [
    ['day', rule.dayBackups],
    ['week', rule.weekBackups],
    ['month', rule.monthBackups],
    ['year', rule.yearBackups],
  ];
  for (const [period, n] of gfs) {
    if (n <= 0) continue;
    const current = periodKey(period, now, rule.utcOffsetMinutes);
    const seen = new Set<number>();
    for (const b of sorted) {
      const key = periodKey(period, b.createdAt, rule.utcOffsetMinutes);
      if (key > current - n && key <= current && !seen.has(key)) {
        seen.add(key);
        exempt.add(b.id);
      }
    }
  }
  const oldest = rule.retentionDurationDays > 0 ? now.getTime() - rule.retentionDurationDays * DAY_MS : -Infinity;
  let counted = 0;
  for (const b of sorted) {
    if (exempt.has(b.id)) continue;
    counted++;
    if ((rule.maxBackups > 0 && counted > rule.maxBackups) || b.createdAt.getTime() < oldest) pruned.add(b.id);
  }
  return pruned;
}
