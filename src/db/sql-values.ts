import { sql } from 'kysely';

/**
 * SQL expressions that domain code puts into an insert or update as values, so that the
 * domain keeps no SQL text. Each is typed as the column's value type (Kysely accepts the
 * expression where the value goes).
 */

/** The database's now() (the transaction's start time, not this process's clock). */
export function dbNow(): Date {
  return sql<Date>`now()` as unknown as Date;
}

/** The row's own current status, for `previous_status = status` in the same UPDATE. */
export function currentStatus(): string {
  return sql<string>`status` as unknown as string;
}

/** The row's previous_status, or 'available' when it has none (an interrupted action undone). */
export function previousStatusOrAvailable(): string {
  return sql<string>`coalesce(previous_status, 'available')` as unknown as string;
}

/** The backup row's own progress_bytes_total (progress done = total in the same UPDATE). */
export function progressBytesTotal(): number {
  return sql<number>`progress_bytes_total` as unknown as number;
}
