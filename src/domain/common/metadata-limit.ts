import { DomainError } from './errors.js';

/** Most metadata items one volume, snapshot or backup may hold (Nova's metadata_items default). */
export const MAX_METADATA_ITEMS = 128;

/** Cinder's MetadataLimitExceeded (a quota error: 413). */
export function tooManyMetadataItems(): DomainError {
  return new DomainError('over_limit', `Maximum number of metadata items exceeds ${MAX_METADATA_ITEMS}`);
}

/**
 * The item bound alone (413 over MAX_METADATA_ITEMS), for every path that writes a whole map:
 * volume, snapshot and backup creates (every volume source) and updates, and the metadata routes.
 */
export function checkMetadataCount(pairs: Record<string, string> | null | undefined): void {
  if (pairs && Object.keys(pairs).length > MAX_METADATA_ITEMS) throw tooManyMetadataItems();
}
