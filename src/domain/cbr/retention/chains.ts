/**
 * Pruning against incremental chains. An incremental backup restores through its parents, and the backup
 * delete path refuses a backup that still has dependents (Cinder's rule). So a pruned backup is deleted only
 * once no live backup names it as parent; until then it stays (deferred) and a later run deletes it, leaf first.
 * A kept backup therefore always keeps its whole chain, and restores exactly as before.
 *
 * To let chains drain, the next scheduled backup of a volume is made full when the newest available backup
 * of that volume (the parent an incremental would pick) has a pruned backup in its chain.
 */
export interface ChainBackup {
  readonly id: string;
  readonly parentId: string | null;
  /** Live = not deleted (any status, deleting included). */
  readonly status: string;
  readonly createdAt: Date;
}

export interface PrunePlan {
  /** Delete now (no live dependents), children before parents within the run is not needed: all are leaves. */
  readonly deleteNow: string[];
  /** Pruned but still the parent of a live backup. */
  readonly deferred: string[];
  /** The next scheduled incremental of this volume would extend a chain retention wants gone. */
  readonly forceFull: boolean;
}

export function planPrune(pruned: ReadonlySet<string>, live: readonly ChainBackup[]): PrunePlan {
  const parents = new Set<string>();
  for (const b of live) if (b.parentId) parents.add(b.parentId);
  const deleteNow: string[] = [];
  const deferred: string[] = [];
  const byId = new Map(live.map((b) => [b.id, b]));
  for (const id of pruned) {
    const b = byId.get(id);
    if (!b || b.status !== 'available') continue;
    (parents.has(id) ? deferred : deleteNow).push(id);
  }
  const newest = live
    .filter((b) => b.status === 'available' && !deleteNow.includes(b.id))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
  let forceFull = false;
  for (let cur = newest, hops = 0; cur && hops < 10_000; cur = cur.parentId ? byId.get(cur.parentId) : undefined, hops++) {
    if (pruned.has(cur.id)) {
      forceFull = true;
      break;
    }
  }
  return { deleteNow: deleteNow.sort(), deferred: deferred.sort(), forceFull };
}

/**
 * `full_backup_interval`: N >= 0 forces a full when the newest backup's chain already holds N incrementals
 * (0 = always full); -1 never forces one.
 */
export function needsFullByInterval(fullBackupInterval: number, live: readonly ChainBackup[]): boolean {
  if (fullBackupInterval < 0) return false;
  const byId = new Map(live.map((b) => [b.id, b]));
  const newest = live.filter((b) => b.status === 'available').sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
  if (!newest) return false;
  let incrementals = 0;
  for (let cur: ChainBackup | undefined = newest, hops = 0; cur?.parentId && hops < 10_000; cur = byId.get(cur.parentId), hops++) {
    incrementals++;
  }
  return incrementals >= fullBackupInterval;
}
