import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTrigger, nextTrigger, parsePattern, parsePatterns, triggersBetween } from '../../src/domain/cbr/schedule/rrule.js';

const at = (s: string) => new Date(s);

describe('parsePattern', () => {
  it.each([
    'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00',
    'FREQ=DAILY;INTERVAL=3;BYHOUR=2;BYMINUTE=30',
    'FREQ=DAILY;INTERVAL=1;BYHOUR=6;BYMINUTE=00',
    'FREQ=DAILY;INTERVAL=30;BYHOUR=02;BYMINUTE=05',
    'BYMINUTE=0;BYHOUR=0,12;FREQ=DAILY',
    'FREQ=WEEKLY;BYDAY=SU;BYHOUR=23;BYMINUTE=59',
  ])('accepts %s and keeps it verbatim', (p) => {
    expect(parsePattern(p).source).toBe(p);
  });

  it.each([
    ['', 'empty'],
    ['FREQ=HOURLY;BYHOUR=1;BYMINUTE=0', 'FREQ=HOURLY'],
    ['FREQ=MONTHLY;BYHOUR=1;BYMINUTE=0', 'FREQ=MONTHLY'],
    ['freq=DAILY;BYHOUR=1;BYMINUTE=0', 'unsupported key freq'],
    ['FREQ=DAILY;BYHOUR=24;BYMINUTE=0', 'BYHOUR=24 is out of range 0-23'],
    ['FREQ=DAILY;BYHOUR=1;BYMINUTE=60', 'BYMINUTE=60 is out of range 0-59'],
    ['FREQ=DAILY;BYHOUR=1', 'BYMINUTE is required'],
    ['FREQ=DAILY;BYMINUTE=1', 'BYHOUR is required'],
    ['BYHOUR=1;BYMINUTE=0', 'FREQ is required'],
    ['FREQ=DAILY;INTERVAL=0;BYHOUR=1;BYMINUTE=0', 'INTERVAL=0 is out of range 1-30'],
    ['FREQ=DAILY;INTERVAL=31;BYHOUR=1;BYMINUTE=0', 'INTERVAL=31 is out of range 1-30'],
    ['FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=1;BYMINUTE=0', 'INTERVAL is allowed with FREQ=DAILY only'],
    ['FREQ=WEEKLY;BYHOUR=1;BYMINUTE=0', 'BYDAY is required with FREQ=WEEKLY'],
    ['FREQ=DAILY;BYDAY=MO;BYHOUR=1;BYMINUTE=0', 'BYDAY is allowed with FREQ=WEEKLY only'],
    ['FREQ=WEEKLY;BYDAY=MO,XX;BYHOUR=1;BYMINUTE=0', 'BYDAY value "XX"'],
    ['FREQ=WEEKLY;BYDAY=MO,MO;BYHOUR=1;BYMINUTE=0', 'BYDAY value MO given twice'],
    ['FREQ=DAILY;BYHOUR=1;BYMINUTE=0;', '"" is not KEY=VALUE'],
    ['FREQ=DAILY;BYHOUR= 1;BYMINUTE=0', 'BYHOUR= 1 is not a number'],
    ['FREQ=DAILY;BYHOUR=1;BYMINUTE=0;COUNT=3', 'unsupported key COUNT'],
    ['FREQ=DAILY;FREQ=DAILY;BYHOUR=1;BYMINUTE=0', 'FREQ given twice'],
    ['FREQ=DAILY;BYHOUR=1,1;BYMINUTE=0', 'BYHOUR value 1 given twice'],
    ['FREQ=DAILY;BYHOUR=001;BYMINUTE=0', 'BYHOUR=001'],
  ])('rejects %j naming the bad part', (p, part) => {
    expect(() => parsePattern(p)).toThrow(part);
  });

  it('a policy: 1-24 rules, time points at least one hour apart', () => {
    expect(() => parsePatterns([])).toThrow('at least one');
    expect(() => parsePatterns(Array.from({ length: 25 }, (_, h) => `FREQ=DAILY;BYHOUR=${h % 24};BYMINUTE=0`))).toThrow('at most 24');
    expect(() => parsePatterns(['FREQ=DAILY;BYHOUR=1;BYMINUTE=0', 'FREQ=DAILY;BYHOUR=1;BYMINUTE=30'])).toThrow('one hour apart');
    expect(() => parsePatterns(['FREQ=DAILY;BYHOUR=23;BYMINUTE=30', 'FREQ=DAILY;BYHOUR=0;BYMINUTE=10'])).toThrow('one hour apart');
    expect(() => parsePatterns(['FREQ=DAILY;BYHOUR=0,23;BYMINUTE=30'])).not.toThrow();
    expect(() => parsePatterns(['FREQ=WEEKLY;BYDAY=MO;BYHOUR=1;BYMINUTE=0', 'FREQ=WEEKLY;BYDAY=TU;BYHOUR=1;BYMINUTE=30'])).not.toThrow();
    expect(parsePatterns(Array.from({ length: 24 }, (_, h) => `FREQ=DAILY;BYHOUR=${h};BYMINUTE=0`))).toHaveLength(24);
  });
});

describe('trigger times (UTC)', () => {
  const anchor = at('2026-03-02T10:15:00Z'); // a Monday
  it('DAILY INTERVAL=1 fires every day at the time, first after the anchor', () => {
    const r = parsePattern('FREQ=DAILY;INTERVAL=1;BYHOUR=06;BYMINUTE=00');
    expect(nextTrigger(r, anchor, anchor).toISOString()).toBe('2026-03-03T06:00:00.000Z');
    const r2 = parsePattern('FREQ=DAILY;BYHOUR=11;BYMINUTE=00');
    expect(nextTrigger(r2, anchor, anchor).toISOString()).toBe('2026-03-02T11:00:00.000Z');
  });
  it('DAILY INTERVAL=3 counts days from the anchor date', () => {
    const r = parsePattern('FREQ=DAILY;INTERVAL=3;BYHOUR=2;BYMINUTE=30');
    const ts = triggersBetween([r], anchor, anchor, at('2026-03-15T00:00:00Z')).map((d) => d.toISOString());
    expect(ts).toEqual(['2026-03-05T02:30:00.000Z', '2026-03-08T02:30:00.000Z', '2026-03-11T02:30:00.000Z', '2026-03-14T02:30:00.000Z']);
  });
  it('WEEKLY fires on the BYDAY days only', () => {
    const r = parsePattern('FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=14;BYMINUTE=00');
    const ts = triggersBetween([r], anchor, anchor, at('2026-03-16T23:00:00Z')).map((d) => d.toISOString());
    expect(ts).toEqual([
      '2026-03-02T14:00:00.000Z',
      '2026-03-06T14:00:00.000Z',
      '2026-03-09T14:00:00.000Z',
      '2026-03-13T14:00:00.000Z',
      '2026-03-16T14:00:00.000Z',
    ]);
  });
  it('several rules merge into one ascending, distinct list', () => {
    const rules = parsePatterns(['FREQ=DAILY;BYHOUR=0,12;BYMINUTE=0', 'FREQ=WEEKLY;BYDAY=TU;BYHOUR=6;BYMINUTE=0']);
    const ts = triggersBetween(rules, anchor, anchor, at('2026-03-04T00:00:00Z')).map((d) => d.toISOString());
    expect(ts).toEqual([
      '2026-03-02T12:00:00.000Z',
      '2026-03-03T00:00:00.000Z',
      '2026-03-03T06:00:00.000Z',
      '2026-03-03T12:00:00.000Z',
      '2026-03-04T00:00:00.000Z',
    ]);
  });
});

const ruleArb = fc.oneof(
  fc
    .record({
      i: fc.integer({ min: 1, max: 30 }),
      h: fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 4 }),
      m: fc.integer({ min: 0, max: 59 }),
    })
    .map(({ i, h, m }) => `FREQ=DAILY;INTERVAL=${i};BYHOUR=${h.join(',')};BYMINUTE=${m}`),
  fc
    .record({
      d: fc.uniqueArray(fc.constantFrom('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'), { minLength: 1, maxLength: 7 }),
      h: fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 4 }),
      m: fc.integer({ min: 0, max: 59 }),
    })
    .map(({ d, h, m }) => `FREQ=WEEKLY;BYDAY=${d.join(',')};BYHOUR=${h.join(',')};BYMINUTE=${String(m).padStart(2, '0')}`),
);
const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }).map((ms) => new Date(ms));
const DAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

describe('trigger properties', () => {
  it('next is strictly later, not before the anchor, matches the pattern, and nothing in between matches', () => {
    fc.assert(
      fc.property(ruleArb, instant, fc.integer({ min: 0, max: 40 * 86_400_000 }), (p, anchor, delta) => {
        const r = parsePattern(p);
        const after = new Date(anchor.getTime() + delta - 20 * 86_400_000);
        const t = nextTrigger(r, anchor, after);
        expect(t.getTime()).toBeGreaterThan(after.getTime());
        expect(t.getTime()).toBeGreaterThanOrEqual(anchor.getTime());
        expect(t.getUTCSeconds()).toBe(0);
        expect(r.hours).toContain(t.getUTCHours());
        expect(t.getUTCMinutes()).toBe(r.minute);
        if (r.days) expect(p).toContain(DAYS[t.getUTCDay()]!);
        const anchorDay = Math.floor(anchor.getTime() / 86_400_000);
        expect((Math.floor(t.getTime() / 86_400_000) - anchorDay) % r.interval).toBe(0);
        expect(isTrigger(r, anchor, t)).toBe(true);
        // no matching minute strictly between `after` and t (checked on each listed hour of each day)
        for (let m = Math.floor(after.getTime() / 60_000) + 1; m * 60_000 < t.getTime(); m += 60) {
          const c = new Date(Math.ceil((m * 60_000 - r.minute * 60_000) / 3_600_000) * 3_600_000 + r.minute * 60_000);
          if (c.getTime() > after.getTime() && c.getTime() < t.getTime() && c.getTime() >= anchor.getTime()) {
            expect(isTrigger(r, anchor, c)).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('successive triggers are strictly increasing and INTERVAL days apart for single-hour DAILY rules', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 23 }), instant, (i, h, anchor) => {
        const r = parsePattern(`FREQ=DAILY;INTERVAL=${i};BYHOUR=${h};BYMINUTE=0`);
        let t = nextTrigger(r, anchor, anchor);
        for (let k = 0; k < 5; k++) {
          const n = nextTrigger(r, anchor, t);
          expect(n.getTime() - t.getTime()).toBe(i * 86_400_000);
          t = n;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('triggersBetween splits: (a,b] + (b,c] = (a,c]', () => {
    fc.assert(
      fc.property(
        ruleArb,
        instant,
        fc.integer({ min: 0, max: 10 * 86_400_000 }),
        fc.integer({ min: 0, max: 10 * 86_400_000 }),
        (p, a, d1, d2) => {
          const rules = [parsePattern(p)];
          const b = new Date(a.getTime() + d1);
          const c = new Date(b.getTime() + d2);
          const whole = triggersBetween(rules, a, a, c).map(Number);
          expect([...triggersBetween(rules, a, a, b), ...triggersBetween(rules, a, b, c)].map(Number)).toEqual(whole);
          for (let k = 1; k < whole.length; k++) expect(whole[k]!).toBeGreaterThan(whole[k - 1]!);
        },
      ),
      { numRuns: 200 },
    );
  });
});
