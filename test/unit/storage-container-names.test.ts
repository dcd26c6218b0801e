import { describe, expect, it } from 'vitest';
import { containerNameProblem, containersOverlap } from '../../src/storage/container-names.js';

describe('backup container names per store', () => {
  it.each(['volumebackups', 'my-bucket.2026', 'abc', 'a'.repeat(63)])('s3 accepts the bucket name %j', (name) => {
    expect(containerNameProblem('s3', name)).toBeNull();
  });

  it.each([
    '',
    '.',
    '..',
    '../etc',
    '/abs/path',
    'a/b',
    'ab',
    'http://evil/',
    '%2e%2e',
    'Upper',
    'a..b',
    '-ab',
    'ab-',
    '192.168.0.1',
    'a'.repeat(64),
    'x\u0000y',
  ])('s3 refuses %j', (name) => {
    expect(containerNameProblem('s3', name)).not.toBeNull();
  });

  it.each(['volumebackups', 'my/own/tree', '~', '-rf', '$(id)', 'UPPER'])('posix accepts the relative path %j', (name) => {
    expect(containerNameProblem('posix', name)).toBeNull();
  });

  it.each(['', '.', '..', '../etc', '/abs', 'a/../b', 'a//b', 'a/', 'a\\b', 'x\u0000y', 'a.0123456789abcdef.partial~'])(
    'posix refuses %j',
    (name) => {
      expect(containerNameProblem('posix', name)).not.toBeNull();
    },
  );

  it('finds posix containers that lie inside one another', () => {
    expect(containersOverlap('volumebackups', 'volumebackups/volume_x')).toBe(true);
    expect(containersOverlap('a/b', 'a')).toBe(true);
    expect(containersOverlap('a', 'a')).toBe(true);
    expect(containersOverlap('a', 'ab')).toBe(false);
    expect(containersOverlap('a/b', 'a/c')).toBe(false);
  });
});
