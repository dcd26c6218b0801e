import { z } from 'zod';
import { BackupIntegrityError } from './engine-api.js';
import { jsonListBytes, writeJsonHexList, type DigestList } from './digest-list.js';
import { pythonJsonDumps, pythonUtcDateString, type PyJson } from './python-json.js';

/**
 * Cinder's chunked-driver layout (https://opendev.org/openstack/cinder/src/branch/master/cinder/backup/chunkeddriver.py): object names, `_metadata` and `_sha256file`.
 * Everything here is pure; the writer and reader only move bytes.
 */

export const FORMAT_VERSION = '1.0.0';

/** Compression names a reader accepts (Cinder's alias table); writers only use zstd, zlib and none. */
export const READABLE_COMPRESSIONS = ['none', 'zlib', 'gzip', 'bz2', 'bzip2', 'zstd'] as const;

/** `<prefix>-00001`: decimal, at least 5 digits, from 1. */
export function dataObjectName(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(5, '0')}`;
}
export const metadataName = (prefix: string): string => `${prefix}_metadata`;
export const sha256FileName = (prefix: string): string => `${prefix}_sha256file`;

export interface ObjectEntry {
  name: string;
  offset: number;
  length: number; // uncompressed
  compression: string;
  md5: string; // hex of the uncompressed bytes
}

export interface BackupHeader {
  backupId: string;
  volumeId: string;
  name: string | null;
  description: string | null;
  createdAt: Date;
}

function headerJson(h: BackupHeader): Record<string, PyJson> {
  return {
    backup_description: h.description,
    backup_id: h.backupId,
    backup_name: h.name,
    created_at: pythonUtcDateString(h.createdAt),
    version: FORMAT_VERSION,
    volume_id: h.volumeId,
  };
}

/** The `_metadata` document, byte-identical to what Cinder's driver writes. */
export function renderMetadata(h: BackupHeader, objects: ObjectEntry[], parentId: string | null, volumeMeta: string | null): string {
  return pythonJsonDumps({
    ...headerJson(h),
    objects: objects.map((o) => ({
      [o.name]: { compression: o.compression, length: o.length, md5: o.md5, offset: o.offset },
    })),
    parent_id: parentId,
    volume_meta: volumeMeta,
  });
}

/**
 * The `_sha256file` document, bytes ready to store; `chunk_size` is the sha block size, as in
 * Cinder. The hash list is written straight into the output (no string per hash, no joined copy),
 * which is a view of `into` when the document fits there.
 */
export function renderSha256File(h: BackupHeader, blockSize: number, digests: DigestList, into?: ArrayBuffer): Buffer {
  const doc = pythonJsonDumps({ ...headerJson(h), chunk_size: blockSize, sha256s: [] });
  // ASCII only (Python's ensure_ascii), and "sha256s" is the last key that can hold a list.
  const key = '"sha256s": ';
  const at = doc.lastIndexOf(`${key}[]`) + key.length;
  const head = Buffer.from(doc.slice(0, at), 'latin1');
  const tail = Buffer.from(doc.slice(at + 2), 'latin1');
  const length = head.length + jsonListBytes(digests.length) + tail.length;
  const out = into && into.byteLength >= length ? Buffer.from(into, 0, length) : Buffer.allocUnsafe(length);
  head.copy(out, 0);
  const end = writeJsonHexList(digests, out, head.length);
  tail.copy(out, end);
  return out;
}

const objectInfo = z.object({
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
  compression: z.string().nullish(),
  md5: z.string().regex(/^[0-9a-fA-F]{32}$/),
});

const metadataSchema = z.object({
  version: z.string(),
  backup_id: z.string().optional(),
  objects: z.array(z.record(z.string(), objectInfo)),
  parent_id: z.string().nullish(),
  volume_meta: z.string().nullish(),
});

const sha256FileSchema = z.object({
  chunk_size: z.number().int().positive(),
  sha256s: z.array(z.string()),
});

export interface ParsedMetadata {
  objects: ObjectEntry[];
  parentId: string | null;
  volumeMeta: string | null;
}

export interface ParsedSha256File {
  blockSize: number;
  sha256s: string[];
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BackupIntegrityError(`${what} is not valid JSON`);
  }
}

/** Parses and checks a `_metadata` document; throws BackupIntegrityError naming `objectName`. */
export function parseMetadata(text: string, objectName: string): ParsedMetadata {
  const r = metadataSchema.safeParse(parseJson(text, objectName));
  if (!r.success) throw new BackupIntegrityError(`${objectName} has an unexpected layout`);
  if (r.data.version !== FORMAT_VERSION) {
    throw new BackupIntegrityError(`No support to restore backup version ${r.data.version.slice(0, 40)} (${objectName})`);
  }
  const objects: ObjectEntry[] = [];
  for (const entry of r.data.objects) {
    const pairs = Object.entries(entry);
    if (pairs.length !== 1) throw new BackupIntegrityError(`${objectName} has an object entry without exactly one name`);
    const [name, info] = pairs[0]!;
    const compression = (info.compression ?? 'none').toLowerCase();
    if (!(READABLE_COMPRESSIONS as readonly string[]).includes(compression)) {
      throw new BackupIntegrityError(`${name} uses unknown compression ${compression.slice(0, 20)}`);
    }
    objects.push({ name, offset: info.offset, length: info.length, compression, md5: info.md5.toLowerCase() });
  }
  return { objects, parentId: r.data.parent_id ?? null, volumeMeta: r.data.volume_meta ?? null };
}

/** Parses and checks a `_sha256file` document; throws BackupIntegrityError naming `objectName`. */
export function parseSha256File(text: string, objectName: string): ParsedSha256File {
  const r = sha256FileSchema.safeParse(parseJson(text, objectName));
  if (!r.success) throw new BackupIntegrityError(`${objectName} has an unexpected layout`);
  return { blockSize: r.data.chunk_size, sha256s: r.data.sha256s };
}

/** The Cinder object-name prefix: volume_<vol>/<UTC YYYYmmddHHMMSS>/az_<az>_backup_<id>. */
export function objectPrefix(volumeId: string, az: string, backupId: string, at: Date): string {
  const ts = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `volume_${volumeId}/${ts}/az_${az}_backup_${backupId}`;
}
