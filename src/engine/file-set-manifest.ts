import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import { BackupIntegrityError, type BackupLocation } from './engine-api.js';

/**
 * The manifest of a file-set backup (a directory tree stored through the chunked engine): one
 * entry per file, directory or symlink. A regular file's data is one or more pieces, each a
 * Cinder-format backup of its own under a sub-prefix; `chain` lists the sub-prefixes that restore
 * a piece, full first (an incremental's unchanged piece reuses its parent's chain, a changed one
 * adds a layer, bytes a file grew by are a new piece).
 * Stored as `<prefix>_manifest` with its sha256 in `<prefix>_manifest.sha256`.
 */
export const filePieceSchema = z.object({
  offset: z.number().int().nonnegative(),
  length: z.number().int().positive(),
  /** sha256 of the piece's block-hash list as stored (hex digests joined by '\n'). */
  digest: z.string(),
  chain: z.array(z.string()).min(1),
});
export type FilePiece = z.infer<typeof filePieceSchema>;

export const fileEntrySchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('file'),
    path: z.string(),
    mode: z.number().int(),
    size: z.number().int().nonnegative(),
    /** Contiguous byte ranges covering [0, size): a file that grew keeps its old pieces and adds one. */
    pieces: z.array(filePieceSchema),
  }),
  z.object({ type: z.literal('dir'), path: z.string(), mode: z.number().int() }),
  z.object({ type: z.literal('symlink'), path: z.string(), target: z.string() }),
]);
export type FileEntry = z.infer<typeof fileEntrySchema>;
export type RegularFileEntry = Extract<FileEntry, { type: 'file' }>;

export const fileSetManifestSchema = z.object({
  format: z.literal('file-set/1'),
  backupId: z.string(),
  parentId: z.string().nullable(),
  blockSize: z.number().int().positive(),
  entries: z.array(fileEntrySchema),
  /** Caller's extra data (for PostgreSQL: LSNs, backup_label, tablespace_map). */
  extra: z.record(z.string(), z.unknown()),
});
export type FileSetManifest = z.infer<typeof fileSetManifestSchema>;

export const manifestName = (prefix: string): string => `${prefix}_manifest`;
const manifestDigestName = (prefix: string): string => `${prefix}_manifest.sha256`;

/** The sub-prefix of piece `piece` of the n-th file of a backup. */
export const fileSubPrefix = (prefix: string, index: number, piece: number): string =>
  `${prefix}_f${String(index).padStart(6, '0')}p${piece}`;

/** The digest a file entry records for a block-hash list. */
export function blockListDigest(hexDigests: readonly string[]): string {
  return hexDigests.length === 0 ? '' : createHash('sha256').update(hexDigests.join('\n')).digest('hex');
}

export async function putManifest(store: ObjectStore, location: BackupLocation, manifest: FileSetManifest): Promise<number> {
  const body = Buffer.from(JSON.stringify(manifest));
  const digest = createHash('sha256').update(body).digest('hex');
  await store.put(location.container, manifestName(location.prefix), body);
  await store.put(location.container, manifestDigestName(location.prefix), Buffer.from(digest));
  return body.length + digest.length;
}

/** Reads and checks a manifest; a missing or altered one is a BackupIntegrityError. */
export async function getManifest(store: ObjectStore, location: BackupLocation): Promise<FileSetManifest> {
  const read = async (key: string): Promise<Buffer> => {
    try {
      return await store.get(location.container, key);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw new BackupIntegrityError(`backup object ${key} is missing`);
      throw err;
    }
  };
  const body = await read(manifestName(location.prefix));
  const expected = (await read(manifestDigestName(location.prefix))).toString('utf8').trim();
  if (createHash('sha256').update(body).digest('hex') !== expected) {
    throw new BackupIntegrityError(`backup manifest ${manifestName(location.prefix)} failed its sha256 check`);
  }
  const parsed = fileSetManifestSchema.safeParse(JSON.parse(body.toString('utf8')));
  if (!parsed.success) throw new BackupIntegrityError(`backup manifest ${manifestName(location.prefix)} is malformed`);
  return parsed.data;
}
