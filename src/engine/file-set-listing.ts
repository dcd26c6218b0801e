import type { ObjectStore } from '../storage/object-store.js';

/** A file piece's sub-prefix: `<backup prefix>_f<6 digits>p<n>` (file-set-manifest's fileSubPrefix). */
const PIECE = /^(.*)_f\d{6}p\d+$/;

/** Index of the first key >= `prefix` in sorted `keys`. */
function lowerBound(keys: readonly string[], prefix: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `store` with `list` answered from one listing per file-set backup: a restore loads every piece
 * as an engine layer, and each load lists its sub-prefix to check that the stored objects are
 * exactly those its `_metadata` names. A backup is immutable once its manifest exists, so one
 * listing of `<backup prefix>_` (taken at the piece's first load) serves every piece of it.
 * NOTE: without it a restore of a cluster's ~1,000 files costs ~1,000 listings, each of the whole
 * backup (a posix directory walk or S3 LIST pages): quadratic, and the restore's bottleneck.
 * Other calls, and prefixes that are not a piece's, go to `store` unchanged.
 */
export function withBackupListing(store: ObjectStore): ObjectStore {
  const listings = new Map<string, Promise<string[]>>();
  const list = async (container: string, prefix: string): Promise<string[]> => {
    const m = PIECE.exec(prefix);
    if (!m) return store.list(container, prefix);
    const key = `${container}\u0000${m[1]}_`;
    let listing = listings.get(key);
    if (!listing) {
      listing = store.list(container, `${m[1]}_`).then((keys) => [...keys].sort());
      listings.set(key, listing);
      listing.catch(() => listings.delete(key));
    }
    const keys = await listing;
    const out: string[] = [];
    for (let i = lowerBound(keys, prefix); i < keys.length && keys[i]!.startsWith(prefix); i++) out.push(keys[i]!);
    return out;
  };
  return {
    get serviceName() {
      return store.serviceName;
    },
    get defaultContainer() {
      return store.defaultContainer;
    },
    get wantsContentMd5() {
      return store.wantsContentMd5;
    },
    ensureContainer: (c) => store.ensureContainer(c),
    put: (c, k, b, o) => store.put(c, k, b, o),
    get: (c, k, r, i) => store.get(c, k, r, i),
    getStream: (c, k) => store.getStream(c, k),
    head: (c, k) => store.head(c, k),
    list,
    deleteMany: (c, k) => store.deleteMany(c, k),
    close: () => store.close(),
  };
}
