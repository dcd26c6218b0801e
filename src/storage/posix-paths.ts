import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { ObjectStoreError } from './object-store.js';

/** Temp files written by the posix store end so; keys may not, so they are never listed. */
export const TEMP_PATTERN = /\.[0-9a-f]{16}\.partial~$/;

/** A temp name in the same directory as `path`, so the final rename is atomic. */
export function tempPathFor(path: string, randomHex: string): string {
  return `${path}.${randomHex}.partial~`;
}

const hostTag = (host: string): string => createHash('sha256').update(host).digest('hex').slice(0, 4);

/**
 * The 16 hex digits of a temp name written by this process: its pid (8), a tag of its host
 * name (4), random (4), so a sweep can tell a temp whose writer is gone (removeAbandonedTemporaries).
 */
export function writerTag(pid = process.pid, host = hostname()): string {
  return `${pid.toString(16).padStart(8, '0').slice(-8)}${hostTag(host)}${randomBytes(2).toString('hex')}`;
}

/** The writer of a temp file name on this host (its pid), or null when it was written elsewhere (or by an older version). */
export function writerOnThisHost(name: string, host = hostname()): number | null {
  const m = /\.([0-9a-f]{8})([0-9a-f]{4})[0-9a-f]{4}\.partial~$/.exec(name);
  return m && m[2] === hostTag(host) ? parseInt(m[1]!, 16) : null;
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
