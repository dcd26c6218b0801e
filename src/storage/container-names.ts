import { TEMP_PATTERN } from './posix-paths.js';

/**
 * Why `name` cannot be a backup container on the given store, or null when it can. Checked
 * when a backup is created, so a bad name is a 400 at once rather than a backup in error
 * later, and the store never talks to a URL other than the bucket it records.
 * - s3: the bucket naming rules (3-63 characters of a-z, 0-9, '.', '-'; a letter or digit at
 *   each end; no '..'; not an IP address).
 * - posix: relative directory names below the store root, segments without '.', '..',
 *   backslashes or control characters.
 */
export function containerNameProblem(store: 'posix' | 's3', name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
  if (store === 's3') {
    if (name.length < 3 || name.length > 63) return 'a bucket name has 3 to 63 characters';
    if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name))
      return 'a bucket name has only a-z, 0-9, "." and "-", with a letter or digit at each end';
    if (name.includes('..')) return 'a bucket name has no ".."';
    if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'a bucket name is not an IP address';
    return null;
  }
  const segments = name.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || TEMP_PATTERN.test(s)))
    return 'a container is a relative path without empty, "." or ".." segments or backslashes';
  return null;
}

/** True when one posix container lies inside the other's directory tree (or they are equal). */
export function containersOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
