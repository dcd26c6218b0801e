import { describe, expect, it } from 'vitest';
import { HttpFault } from '../../src/http/faults.js';
import { compareVersions, formatVersion, negotiate, parseVersion } from '../../src/http/microversion.js';

const fault = (header: string): HttpFault => {
  try {
    negotiate(header);
  } catch (err) {
    return err as HttpFault;
  }
  throw new Error(`negotiate(${header}) did not throw`);
};

describe('microversion parsing', () => {
  it.each([
    ['3.0', { major: 3, minor: 0 }],
    ['3.5', { major: 3, minor: 5 }],
    ['3.70', { major: 3, minor: 70 }],
    ['10.10', { major: 10, minor: 10 }],
  ])('parses %s', (text, v) => expect(parseVersion(text)).toEqual(v));

  it.each(['3.05', '03.1', '3', '3.', '.3', 'abc', '3.x', '-3.1', '3.1.1', ' 3.1', ''])('refuses %j', (text) => {
    expect(parseVersion(text)).toBeNull();
  });

  it('compares numerically, not as text', () => {
    expect(compareVersions(parseVersion('3.9')!, parseVersion('3.10')!)).toBeLessThan(0);
    expect(formatVersion(parseVersion('3.10')!)).toBe('3.10');
  });
});

describe('negotiate', () => {
  it('absent header is 3.0; latest is 3.70', () => {
    expect(formatVersion(negotiate(undefined))).toBe('3.0');
    expect(formatVersion(negotiate('volume latest'))).toBe('3.70');
    expect(formatVersion(negotiate('volume LATEST'))).toBe('3.70');
  });

  it('takes the first entry that mentions volume', () => {
    expect(formatVersion(negotiate('compute 2.1, volume 3.44, volume 3.50'))).toBe('3.44');
  });

  it('406 outside [3.0, 3.70], 400 when malformed or without a volume entry', () => {
    expect(fault('volume 3.71').statusCode).toBe(406);
    expect(fault('volume 2.99').statusCode).toBe(406);
    expect(fault('volume 3.05').statusCode).toBe(400);
    expect(fault('volume 3.05').message).toBe('API Version String 3.05 is of invalid format. Must be of format MajorNum.MinorNum.');
    expect(fault('identity 3.1').statusCode).toBe(400);
  });
});
