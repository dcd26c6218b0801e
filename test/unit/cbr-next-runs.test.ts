import { describe, expect, it } from 'vitest';
import { nextRunTimes } from '../../src/domain/cbr/schedule/policy-schedule.js';
import { nextTriggers, parsePatterns, triggersBetween } from '../../src/domain/cbr/schedule/rrule.js';

const at = (s: string) => new Date(s);

describe('nextTriggers', () => {
  it.each([
    [['FREQ=DAILY;INTERVAL=3;BYHOUR=0,12;BYMINUTE=30'], '2026-01-01T05:00:00Z', '2026-01-09T13:00:00Z'],
    [['FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=14;BYMINUTE=00', 'FREQ=DAILY;BYHOUR=02;BYMINUTE=00'], '2026-02-10T00:00:00Z', '2026-02-10T02:00:00Z'],
  ])('%j is the head of triggersBetween over the following weeks (anchor %s, after %s)', (patterns, anchor, after) => {
    const rules = parsePatterns(patterns);
    const far = new Date(at(after).getTime() + 60 * 86_400_000);
    expect(nextTriggers(rules, at(anchor), at(after), 7)).toEqual(triggersBetween(rules, at(anchor), at(after), far).slice(0, 7));
  });

  it('is strictly after `after`: an instant equal to it is not next', () => {
    const rules = parsePatterns(['FREQ=DAILY;BYHOUR=02;BYMINUTE=00']);
    expect(nextTriggers(rules, at('2026-01-01T00:00:00Z'), at('2026-01-05T02:00:00Z'), 1)).toEqual([at('2026-01-06T02:00:00Z')]);
  });
});

describe('nextRunTimes', () => {
  const policy = { patterns: ['FREQ=DAILY;BYHOUR=02;BYMINUTE=00'], created_at: at('2026-01-01T00:00:00Z'), enabled: true };
  it('is empty for a disabled policy and for patterns that no longer parse', () => {
    expect(nextRunTimes({ ...policy, enabled: false }, at('2026-01-02T00:00:00Z'))).toEqual([]);
    expect(nextRunTimes({ ...policy, patterns: ['FREQ=HOURLY'] }, at('2026-01-02T00:00:00Z'))).toEqual([]);
  });
  it('never lists an instant before the policy was created', () => {
    expect(nextRunTimes(policy, at('2025-12-01T00:00:00Z'), 1)).toEqual([at('2026-01-01T02:00:00Z')]);
  });
});
