import { type Kysely, sql } from 'kysely';
import type { Database } from '../src/db/schema.js';
import { median } from './stats.js';

/**
 * What the list version triggers (migrations/20261206_2100_list_versions.ts) cost writers:
 * the same statements on the seeded API database with the triggers on and off, alternating in
 * blocks so that drift in the machine's load falls on both sides alike.
 */

/** Every list version trigger (backups', volumes' and snapshots' tables alike), as [table, trigger]. */
async function listVersionTriggers(db: Kysely<Database>): Promise<[string, string][]> {
  const { rows } = await sql<{ table: string; name: string }>`
    SELECT c.relname AS table, t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal AND t.tgname LIKE '%\_list\_version\_%' ORDER BY 1, 2`.execute(db);
  return rows.map((r) => [r.table, r.name]);
}

/**
 * Turns every list version trigger on or off (they bump versions only; nothing else depends on
 * them). All of them, so that "off" is the service without the cache's write cost: a backup's
 * POST also writes its volume's row, whose triggers bump the same version.
 */
export async function setListVersionTriggers(db: Kysely<Database>, on: boolean): Promise<void> {
  const triggers = await listVersionTriggers(db);
  if (triggers.length === 0) throw new Error('no list version triggers found: are the migrations applied?');
  for (const [table, name] of triggers)
    await sql`ALTER TABLE ${sql.table(table)} ${sql.raw(on ? 'ENABLE' : 'DISABLE')} TRIGGER ${sql.ref(name)}`.execute(db);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Median ms of `write(i)` with the triggers on and off: `blocks` alternating blocks of `perBlock` calls each. */
export async function onOff(
  db: Kysely<Database>,
  blocks: number,
  perBlock: number,
  write: (i: number) => Promise<unknown>,
): Promise<{ on: number; off: number }> {
  const lat = { on: [] as number[], off: [] as number[] };
  let i = 0;
  try {
    for (let b = 0; b < 2 * blocks; b++) {
      const on = b % 2 === 0;
      await setListVersionTriggers(db, on);
      for (let k = 0; k < perBlock; k++) lat[on ? 'on' : 'off'].push(await timed(() => write(i++)));
    }
  } finally {
    await setListVersionTriggers(db, true);
  }
  return { on: median(lat.on), off: median(lat.off) };
}

/** Single-row rename, progress write and a 1,000-row update of one project, triggers on vs off (ms, medians). */
export async function writeCost(db: Kysely<Database>, project: string, ids: string[]) {
  const rename = await onOff(db, 5, 40, (i) =>
    db
      .updateTable('backups')
      .set({ display_name: `renamed-${i}` })
      .where('id', '=', ids[i % ids.length]!)
      .execute(),
  );
  const progress = await onOff(db, 5, 40, (i) =>
    db
      .updateTable('backups')
      .set({ progress_bytes_done: i, progress_updated_at: sql<Date>`now()` })
      .where('id', '=', ids[i % ids.length]!)
      .execute(),
  );
  const bulk = await onOff(db, 3, 2, (i) =>
    db
      .updateTable('backups')
      .set({ display_description: `bulk-${i}` })
      .where('project_id', '=', project)
      .execute(),
  );
  return { rename, progress, bulk };
}
