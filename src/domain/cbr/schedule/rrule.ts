import { DomainError } from '../../common/errors.js';

/**
 * CBR policy schedule rules (a policy's trigger.properties.pattern): a restricted RRULE,
 * `FREQ=DAILY|WEEKLY` plus `INTERVAL` (days, DAILY only, 1-30), `BYDAY` (WEEKLY only, required),
 * `BYHOUR` (0-23, a comma list allowed) and `BYMINUTE` (0-59), all required but INTERVAL/BYDAY; times in UTC.
 * Nothing else is accepted (no TZID, DTSTART, COUNT, UNTIL, lower case, spaces, empty parts, repeated keys).
 * The source string is kept verbatim: the API echoes it byte for byte (`BYHOUR=02` stays `02`).
 *
 * INTERVAL anchor: the policy trigger's `start_time` (the instant the schedule took effect: policy creation,
 * or a trigger update), playing RFC 5545's DTSTART role. Days are counted in UTC from the anchor's UTC date:
 * a DAILY;INTERVAL=3 rule fires on the anchor's date, then every third UTC date, never before the anchor.
 */
export type Weekday = 'MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU';

export interface ScheduleRule {
  readonly source: string;
  readonly freq: 'DAILY' | 'WEEKLY';
  readonly interval: number;
  /** UTC weekdays, 0 = Sunday (Date.getUTCDay); null for DAILY. */
  readonly days: ReadonlySet<number> | null;
  /** Sorted, distinct. */
  readonly hours: readonly number[];
  readonly minute: number;
}

const WEEKDAYS: Record<Weekday, number> = { SU: 0, MO: 1, TU: 2, WE: 3, TH: 4, FR: 5, SA: 6 };
const KEYS = ['FREQ', 'INTERVAL', 'BYDAY', 'BYHOUR', 'BYMINUTE'] as const;
type Key = (typeof KEYS)[number];
const DAY_MS = 86_400_000;
export const MAX_PATTERNS = 24;

function bad(pattern: string, what: string): DomainError {
  return new DomainError('invalid', `Invalid trigger pattern "${pattern}": ${what}`);
}

function integer(pattern: string, key: string, raw: string, min: number, max: number): number {
  if (!/^\d{1,2}$/.test(raw)) throw bad(pattern, `${key}=${raw} is not a number of one or two digits`);
  const n = Number(raw);
  if (n < min || n > max) throw bad(pattern, `${key}=${raw} is out of range ${min}-${max}`);
  return n;
}

export function parsePattern(pattern: string): ScheduleRule {
  if (typeof pattern !== 'string' || pattern.length === 0) throw bad(String(pattern), 'empty pattern');
  if (pattern.length > 256) throw bad(pattern.slice(0, 64) + '...', 'longer than 256 characters');
  const raw = new Map<Key, string>();
  for (const part of pattern.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(pattern, `"${part}" is not KEY=VALUE`);
    const key = part.slice(0, eq);
    if (!(KEYS as readonly string[]).includes(key)) throw bad(pattern, `unsupported key ${key} (allowed: ${KEYS.join(', ')})`);
    if (raw.has(key as Key)) throw bad(pattern, `${key} given twice`);
    raw.set(key as Key, part.slice(eq + 1));
  }
  const freq = raw.get('FREQ');
  if (freq === undefined) throw bad(pattern, 'FREQ is required');
  if (freq !== 'DAILY' && freq !== 'WEEKLY') throw bad(pattern, `FREQ=${freq} (allowed: DAILY, WEEKLY)`);
  let interval = 1;
  const rawInterval = raw.get('INTERVAL');
  if (rawInterval !== undefined) {
    if (freq !== 'DAILY') throw bad(pattern, 'INTERVAL is allowed with FREQ=DAILY only');
    interval = integer(pattern, 'INTERVAL', rawInterval, 1, 30);
  }
  let days: Set<number> | null = null;
  const rawDays = raw.get('BYDAY');
  if (freq === 'WEEKLY') {
    if (rawDays === undefined) throw bad(pattern, 'BYDAY is required with FREQ=WEEKLY');
    days = new Set();
    for (const d of rawDays.split(',')) {
      if (!(d in WEEKDAYS)) throw bad(pattern, `BYDAY value "${d}" (allowed: MO,TU,WE,TH,FR,SA,SU)`);
      if (days.has(WEEKDAYS[d as Weekday])) throw bad(pattern, `BYDAY value ${d} given twice`);
      days.add(WEEKDAYS[d as Weekday]);
    }
  } else if (rawDays !== undefined) throw bad(pattern, 'BYDAY is allowed with FREQ=WEEKLY only');
  const rawHours = raw.get('BYHOUR');
  if (rawHours === undefined) throw bad(pattern, 'BYHOUR is required');
  const hours: number[] = [];
  for (const h of rawHours.split(',')) {
    const n = integer(pattern, 'BYHOUR', h, 0, 23);
    if (hours.includes(n)) throw bad(pattern, `BYHOUR value ${h} given twice`);
    hours.push(n);
  }
  const rawMinute = raw.get('BYMINUTE');
  if (rawMinute === undefined) throw bad(pattern, 'BYMINUTE is required');
  const minute = integer(pattern, 'BYMINUTE', rawMinute, 0, 59);
  return { source: pattern, freq, interval, days, hours: hours.sort((a, b) => a - b), minute };
}

/**
 * A policy's whole pattern list: 1-24 rules, at most 24 time points a day, points at least one hour
 * apart (two rules are taken to meet on a day unless both are WEEKLY with disjoint BYDAY).
 */
export function parsePatterns(patterns: readonly string[]): ScheduleRule[] {
  if (patterns.length === 0) throw new DomainError('invalid', 'Invalid trigger: pattern must hold at least one rule');
  if (patterns.length > MAX_PATTERNS) throw new DomainError('invalid', `Invalid trigger: at most ${MAX_PATTERNS} patterns`);
  const rules = patterns.map(parsePattern);
  for (let i = 0; i < rules.length; i++) {
    for (let j = i; j < rules.length; j++) {
      const a = rules[i]!;
      const b = rules[j]!;
      if (i !== j && a.days && b.days && ![...a.days].some((d) => b.days!.has(d))) continue;
      for (const ha of a.hours) {
        for (const hb of b.hours) {
          if (i === j && ha === hb) continue;
          const gap = Math.abs(ha * 60 + a.minute - (hb * 60 + b.minute));
          if (Math.min(gap, 1440 - gap) < 60) {
            throw bad(b.source, `its time points must be at least one hour apart from those of "${a.source}"`);
          }
        }
      }
    }
  }
  return rules;
}

function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

function dayMatches(rule: ScheduleRule, day: number, anchorDay: number): boolean {
  if (day < anchorDay) return false;
  if (rule.days) return rule.days.has((day + 4) % 7); // 1970-01-01 was a Thursday (4)
  return (day - anchorDay) % rule.interval === 0;
}

/** The first trigger instant strictly after `after` and not before `anchor`. Always exists (bounded search). */
export function nextTrigger(rule: ScheduleRule, anchor: Date, after: Date): Date {
  const anchorMs = anchor.getTime();
  const anchorDay = utcDay(anchorMs);
  const afterMs = after.getTime();
  // 31 days cover INTERVAL <= 30 and any week; one more for a day whose times all passed.
  for (let day = Math.max(anchorDay, utcDay(afterMs)), end = day + 32; day <= end; day++) {
    if (!dayMatches(rule, day, anchorDay)) continue;
    for (const h of rule.hours) {
      const t = day * DAY_MS + (h * 60 + rule.minute) * 60_000;
      if (t > afterMs && t >= anchorMs) return new Date(t);
    }
  }
  throw new Error(`unreachable: no trigger for ${rule.source} within 32 days`);
}

/** Every trigger instant t of any rule with from < t <= to (ascending, distinct), not before `anchor`. */
export function triggersBetween(rules: readonly ScheduleRule[], anchor: Date, from: Date, to: Date): Date[] {
  const out = new Set<number>();
  for (const rule of rules) {
    for (let t = nextTrigger(rule, anchor, from); t.getTime() <= to.getTime(); t = nextTrigger(rule, anchor, t)) {
      out.add(t.getTime());
    }
  }
  return [...out].sort((a, b) => a - b).map((ms) => new Date(ms));
}

/** The first `count` trigger instants of any rule strictly after `after`, not before `anchor` (ascending, distinct). */
export function nextTriggers(rules: readonly ScheduleRule[], anchor: Date, after: Date, count: number): Date[] {
  const out: Date[] = [];
  for (let t = after; out.length < count && rules.length > 0; ) {
    t = new Date(Math.min(...rules.map((rule) => nextTrigger(rule, anchor, t).getTime())));
    out.push(t);
  }
  return out;
}

/** True when `at` is exactly a trigger instant of the rule (minute precision, seconds zero). */
export function isTrigger(rule: ScheduleRule, anchor: Date, at: Date): boolean {
  return nextTrigger(rule, anchor, new Date(at.getTime() - 1)).getTime() === at.getTime();
}
