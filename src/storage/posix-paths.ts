import { join, resolve, sep } from 'node:path';
import { ObjectStoreError } from './object-store.js';

/** Temp files written by the posix store end so; keys may not, so they are never listed. */
export const TEMP_PATTERN = /\.[0-9a-f]{16}\.partial~$/;

/** A temp name in the same directory as `path`, so the final rename is atomic. */
export function tempPathFor(path: string, randomHex: string): string {
  return `${path}.${randomHex}.partial~`;
}

/**
 * Splits an S3-style name ("a/b/c") into path segments, refusing anything that could
 * leave the root: empty segments (leading, trailing or double "/"), "." and "..", NUL,
 * backslashes, and names of the store's own temp files.
 */
export function safeSegments(kind: 'container' | 'key', name: string): string[] {
  const segments = name.split('/');
  const bad = (s: string) => s === '' || s === '.' || s === '..' || s.includes('\0') || s.includes('\\') || TEMP_PATTERN.test(s);
  if (name.length === 0 || name.length > 1024 || segments.some(bad)) {
    throw new ObjectStoreError(`posix: invalid ${kind} name ${JSON.stringify(name.slice(0, 100))}`);
  }
  return segments;
}

/**
 * The absolute path of `container/key` below `root`, checked to stay inside the root
 * (a second guard behind safeSegments). `key` undefined gives the container directory.
 */
export function resolveInside(root: string, container: string, key?: string): string {
  const parts = safeSegments('container', container);
  if (key !== undefined) parts.push(...safeSegments('key', key));
  const base = resolve(root);
  const path = resolve(join(base, ...parts));
  if (!path.startsWith(base + sep)) throw new ObjectStoreError('posix: name escapes the store root');
  return path;
}
