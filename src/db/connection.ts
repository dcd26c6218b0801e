import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database, Db } from './schema.js';

// Decided once: int8 (bigint, bigserial, count(*)) comes back as a JS number.
// Every int8 we store (bytes, ids, counts) stays far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export interface DbOptions {
  url: string;
  poolSize?: number;
  /** Called for pool-level errors (a backend killed under an idle client); the pool itself recovers. */
  onPoolError?: (err: Error) => void;
}

/** The pool under each handle createDb made (never under a transaction): see preparedRows. */
const pools = new WeakMap<Kysely<Database>, pg.Pool>();

/** Opens a Kysely handle on a pg pool. Close it with `db.destroy()`. */
export function createDb(options: DbOptions): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
  pool.on('error', (err) => options.onPoolError?.(err));
  // NOTE: pg-pool listens for errors only on idle clients. A backend killed (Postgres restart,
  // pg_terminate_backend) while a client is checked out between two queries (in a transaction,
  // or Kysely holding it) emits 'error' on the client with no listener: an uncaught exception
  // that kills the process. This listener keeps the process up; the dead client fails its next
  // query (a 503) and pg-pool discards it on release because it is no longer queryable.
  pool.on('connect', (client) => client.on('error', (err) => options.onPoolError?.(err)));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  pools.set(db, pool);
  return db;
}

/**
 * Runs `text` as the named prepared statement `name` on the pool under `db` (each connection
 * parses and plans it once), or returns null when `db` is not a handle createDb made (a
 * transaction: the caller reads through Kysely there). For the hottest one-row reads only: Kysely
 * sends every query unnamed, so Postgres parses and plans it on every call.
 */
export async function preparedRows<R>(db: Db, name: string, text: string, values: unknown[]): Promise<R[] | null> {
  const pool = pools.get(db);
  if (!pool) return null;
  return (await pool.query<R & pg.QueryResultRow>({ name, text, values })).rows;
}

/**
 * True for connection-level database failures (backend killed, Postgres restarting or
 * unreachable), as opposed to errors in a query: the work may simply be tried again.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (
    typeof e?.code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08006', '08001', '08003'].includes(e.code)
  )
    return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(
    String(e?.message ?? ''),
  );
}

/** One round trip (`select 1`); rejects when the database does not answer (the health check). */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
