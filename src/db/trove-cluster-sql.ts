import pg from 'pg';

/**
 * SQL sent to a Trove instance's own cluster (not the service's database): the service
 * connects as `postgres` through the instance's unix socket (peer authentication).
 */

/** A superuser connection to `database` of the cluster whose socket is in `socketDir`. */
export async function connectCluster(socketDir: string, port: number, database = 'postgres'): Promise<pg.Client> {
  const client = new pg.Client({ host: socketDir, port, user: 'postgres', database, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Connects, asks whether the cluster is in recovery, disconnects. Throws when it cannot. */
export async function clusterHealth(socketDir: string, port: number): Promise<{ inRecovery: boolean }> {
  const client = await connectCluster(socketDir, port);
  try {
    const r = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    return { inRecovery: r.rows[0]!.r };
  } finally {
    await client.end().catch(() => {});
  }
}

export interface ClusterUserSpec {
  name: string;
  password: string;
  databases: string[];
}

const ident = (s: string) => pg.Client.prototype.escapeIdentifier(s);
const literal = (s: string) => pg.Client.prototype.escapeLiteral(s);

/**
 * Creates databases and login roles as Trove's create does. In PG 15 only a database's
 * owner may create in its `public` schema by default, so the first user granted a
 * database becomes its owner, and every granted user also gets CREATE on `public`.
 */
export async function createDatabasesAndUsers(
  socketDir: string,
  port: number,
  databases: string[],
  users: ClusterUserSpec[],
): Promise<void> {
  const admin = await connectCluster(socketDir, port);
  try {
    for (const u of users) {
      await admin.query(`CREATE ROLE ${ident(u.name)} LOGIN PASSWORD ${literal(u.password)}`);
    }
    for (const db of databases) {
      const owner = users.find((u) => u.databases.includes(db));
      await admin.query(`CREATE DATABASE ${ident(db)}${owner ? ` OWNER ${ident(owner.name)}` : ''}`);
    }
    for (const u of users) for (const db of u.databases) await admin.query(`GRANT ALL ON DATABASE ${ident(db)} TO ${ident(u.name)}`);
  } finally {
    await admin.end().catch(() => {});
  }
  for (const db of databases) {
    const grantees = users.filter((u) => u.databases.includes(db));
    if (!grantees.length) continue;
    const c = await connectCluster(socketDir, port, db);
    try {
      for (const u of grantees) await c.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${ident(u.name)}`);
    } finally {
      await c.end().catch(() => {});
    }
  }
}

/** Bytes the cluster's databases take (pg_database_size summed). */
export async function clusterUsedBytes(socketDir: string, port: number): Promise<number> {
  const c = await connectCluster(socketDir, port);
  try {
    const r = await c.query<{ b: string }>('SELECT sum(pg_database_size(oid))::text AS b FROM pg_database');
    return Number(r.rows[0]?.b ?? 0);
  } finally {
    await c.end().catch(() => {});
  }
}
