import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cinderTimestamp, cinderTimestampFromUtc } from '../../src/http/format.js';

/** Postgres' text of a UTC timestamp (DateStyle ISO): the fraction without trailing zeros, none when zero. */
function pgUtcText(date: Date, extraMicros: number): string {
  const iso = date.toISOString(); // 2026-11-22T10:15:03.123Z
  const fraction = `${iso.slice(20, 23)}${String(extraMicros).padStart(3, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''}`;
}

describe('cinderTimestampFromUtc', () => {
  it.each([
    ['2026-11-22 10:15:03', '2026-11-22T10:15:03.000000'],
    ['2026-11-22 10:15:03.5', '2026-11-22T10:15:03.500000'],
    ['2026-11-22 10:15:03.05', '2026-11-22T10:15:03.050000'],
    ['2026-11-22 10:15:03.123', '2026-11-22T10:15:03.123000'],
    ['2026-11-22 10:15:03.1234', '2026-11-22T10:15:03.123000'],
    ['2026-11-22 10:15:03.000001', '2026-11-22T10:15:03.000000'],
    ['2026-11-22 10:15:03.123999', '2026-11-22T10:15:03.123000'],
    ['2026-12-31 23:59:59.999999', '2026-12-31T23:59:59.999000'],
    ['0500-01-01 00:00:00', '0500-01-01T00:00:00.000000'],
  ])('renders %s as %s (microseconds cut to milliseconds, not rounded)', (text, expected) => {
    expect(cinderTimestampFromUtc(text)).toBe(expected);
  });

  it('keeps null', () => {
    expect(cinderTimestampFromUtc(null)).toBeNull();
  });

  it.each([
    ['with a zone offset (not converted to UTC)', '2026-11-22 10:15:03.123+00'],
    ['with a half-hour offset', '2026-11-22 15:45:03.123+05:30'],
    ['in ISO 8601 with T', '2026-11-22T10:15:03.123'],
    ['with an empty fraction', '2026-11-22 10:15:03.'],
    ['with seven fraction digits', '2026-11-22 10:15:03.1234567'],
    ['before Christ', '0044-03-15 12:00:00 BC'],
    ['after year 9999', '10000-01-01 00:00:00'],
    ['infinite', 'infinity'],
    ['in DateStyle SQL', '11/22/2026 10:15:03.123456'],
    ['in DateStyle German', '22.11.2026 10:15:03.123456'],
    ['in DateStyle Postgres', 'Sun Nov 22 10:15:03.123456 2026'],
  ])('refuses a timestamp %s', (_what, text) => {
    expect(() => cinderTimestampFromUtc(text)).toThrow(/not a UTC timestamp/);
  });

  it('agrees byte for byte with the Date path (node-pg parses to milliseconds) for any instant and microseconds', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
        (date, micros) => cinderTimestampFromUtc(pgUtcText(date, micros)) === cinderTimestamp(date),
      ),
      { numRuns: 2000 },
    );
  });
});
