import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import { metadataName, parseMetadata, sha256FileName, type ObjectEntry } from './backup-format.js';
import { sameDigest } from './digest-list.js';
import { ownKeys } from './engine-context.js';
import { BackupIntegrityError, type BackupLocation } from './engine-api.js';
import { readSha256File } from './sha256-file-reader.js';

/** One backup of a chain as stored: its objects and its hash list. */
export interface Layer {
  location: BackupLocation;
  objects: ObjectEntry[];
  blockSize: number;
  /**
   * The `_sha256file`'s hashes as raw digests, `valid[i]` 0 for a malformed entry (digest-list.ts:
   * kept as hex strings they were ~23 MiB of heap at 8 GiB, and the restore's peak grew with the volume).
   */
  hashes: { digests: Uint8Array; valid: Uint8Array };
  volumeMeta: string | null;
}

/** True when block `i` of `a` and block `j` of `b` carry the same hash (two malformed entries count as the same). */
export function sameHash(a: Layer['hashes'], i: number, b: Layer['hashes'], j: number): boolean {
  if (a.valid[i] === 1 && b.valid[j] === 1) return sameDigest(a.digests, i, b.digests, j);
  return a.valid[i] === 0 && b.valid[j] === 0;
}

/** An object to fetch, and the absolute byte ranges [start, end) of it that survive in the final image. */
export interface PlannedObject {
  layer: Layer;
  entry: ObjectEntry;
  ranges: Array<[number, number]>;
}

/** Integrity failure with a message cut to fit a fail_reason column. */
export function integrityError(message: string): BackupIntegrityError {
  return new BackupIntegrityError(message.length > 255 ? message.slice(0, 252) + '...' : message);
}

async function getBytes(store: ObjectStore, container: string, key: string, into?: ArrayBuffer): Promise<Buffer> {
  try {
    return await store.get(container, key, undefined, into);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw integrityError(`${key} is missing`);
    throw err;
  }
}

/**
 * Reads a layer's `_metadata` and `_sha256file` and checks, as Cinder's restore does, that the
 * listed data objects are exactly those in `_metadata` (an extra or a missing object fails).
 * Both documents are read into `scratch` when they fit (nothing kept views it afterwards).
 * NOTE: an 8 GiB volume's `_sha256file` is 19 MB; read into a buffer of its own, it stayed
 * resident until the next full collection, well into the restore, and raised its peak RSS.
 */
export async function loadLayer(store: ObjectStore, location: BackupLocation, scratch?: ArrayBuffer): Promise<Layer> {
  const { container, prefix } = location;
  const metaKey = metadataName(prefix);
  const shaKey = sha256FileName(prefix);
  const meta = parseMetadata((await getBytes(store, container, metaKey, scratch)).toString('utf8'), metaKey);
  const sha = readSha256File(await getBytes(store, container, shaKey, scratch), shaKey);
  const listed = new Set(ownKeys(await store.list(container, prefix), prefix).filter((k) => k !== metaKey && k !== shaKey));
  const recorded = new Set(meta.objects.map((o) => o.name));
  for (const name of recorded) if (!listed.has(name)) throw integrityError(`${name} is missing`);
  for (const name of listed) if (!recorded.has(name)) throw integrityError(`${name} is stored but not listed in ${metaKey}`);
  return { location, objects: meta.objects, blockSize: sha.blockSize, hashes: sha.hashes, volumeMeta: meta.volumeMeta };
}

/** Subtracts the sorted, disjoint `covered` intervals from [a, b). */
function uncovered(covered: Array<[number, number]>, a: number, b: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let lo = 0;
  let hi = covered.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (covered[mid]![1] <= a) lo = mid + 1;
    else hi = mid;
  }
  let cur = a;
  for (let i = lo; i < covered.length && covered[i]![0] < b; i++) {
    const [s, e] = covered[i]!;
    if (s > cur) out.push([cur, s]);
    cur = Math.max(cur, e);
  }
  if (cur < b) out.push([cur, b]);
  return out;
}

function addCovered(covered: Array<[number, number]>, a: number, b: number): void {
  covered.push([a, b]);
  covered.sort((x, y) => x[0] - y[0]);
  let w = 0;
  for (const iv of covered) {
    const last = covered[w - 1];
    if (w > 0 && last && iv[0] <= last[1]) last[1] = Math.max(last[1], iv[1]);
    else covered[w++] = [iv[0], iv[1]];
  }
  covered.length = w;
}

/**
 * The final block map of a chain (full first, requested last): for every byte, the newest layer
 * that holds it, so each object is fetched at most once and only objects that still matter are.
 * Also checks that the data covers exactly the requested backup's hash list, and that every block
 * taken from an older layer carries the hash the requested backup recorded for it.
 */
export function planFinalMap(layers: Layer[]): PlannedObject[] {
  const last = layers[layers.length - 1];
  if (!last) throw new Error('planFinalMap: empty chain');
  const covered: Array<[number, number]> = [];
  const plan: PlannedObject[] = [];
  for (let li = layers.length - 1; li >= 0; li--) {
    const layer = layers[li]!;
    // Within a layer, a later-listed object wins (Cinder writes them in listed order).
    for (let oi = layer.objects.length - 1; oi >= 0; oi--) {
      const entry = layer.objects[oi]!;
      const ranges = uncovered(covered, entry.offset, entry.offset + entry.length);
      if (ranges.length > 0) plan.push({ layer, entry, ranges });
      if (entry.length > 0) addCovered(covered, entry.offset, entry.offset + entry.length);
    }
  }
  const end = covered.length === 0 ? 0 : covered[covered.length - 1]![1];
  if (covered.length > 1 || (covered[0] && covered[0][0] !== 0) || Math.ceil(end / last.blockSize) !== last.hashes.valid.length) {
    throw integrityError(
      `the objects of ${metadataName(last.location.prefix)} do not cover the ${last.hashes.valid.length} blocks of its _sha256file`,
    );
  }
  for (const p of plan) {
    if (p.layer === last || p.layer.blockSize !== last.blockSize || p.entry.offset % last.blockSize !== 0) continue;
    for (const [s, e] of p.ranges) {
      for (let g = Math.floor(s / last.blockSize); g * last.blockSize < e; g++) {
        if (!sameHash(p.layer.hashes, g, last.hashes, g)) {
          throw integrityError(`block ${g} of ${p.entry.name} disagrees with ${sha256FileName(last.location.prefix)}`);
        }
      }
    }
  }
  return plan.sort((x, y) => x.entry.offset - y.entry.offset);
}
