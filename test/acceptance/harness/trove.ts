import { type Client, type CliResult, OPENSTACK, runCli } from './clients.js';

// Debian's clients and psql, never a pyenv shim or a newer psql that may shadow them on PATH.
export const TROVE = '/usr/bin/trove';
export const PSQL = '/usr/bin/psql';

function bindArgs(bin: string, authArgs: string[]): Client {
  const run = (args: string[]) => runCli(bin, [...authArgs, ...args]);
  return {
    run,
    async ok(args) {
      const r = await run(args);
      if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.command}\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    },
    async fails(args) {
      const r = await run(args);
      if (r.code === 0) throw new Error(`expected a failure: ${r.command}\n${r.stdout}`);
      return `${r.stdout}\n${r.stderr}`;
    },
  };
}

/**
 * `openstack` against /v1.0/{project} the way the README tells users to: `admin_token` with a
 * noauth `user:project` token and the endpoint given verbatim (no catalog, no discovery).
 */
export function openstackTrove(baseUrl: string, user: string, project: string): Client {
  return bindArgs(OPENSTACK, [
    '--os-auth-type',
    'admin_token',
    '--os-token',
    `${user}:${project}`,
    '--os-endpoint',
    `${baseUrl}/v1.0/${project}`,
  ]);
}

/**
 * The legacy `trove` CLI with `--json`: it always authenticates first, here through the noauth
 * handshake of GET /v3 (X-Auth-Token and X-Server-Management-Url answered without Keystone),
 * and `--bypass-url` then points every request at /v1.0/{project}.
 */
export function troveLegacy(baseUrl: string, user: string, project: string): Client {
  return bindArgs(TROVE, [
    '--json',
    '--os-auth-url',
    `${baseUrl}/v3`,
    '--os-username',
    user,
    '--os-password',
    'unused',
    '--os-project-name',
    project,
    '--bypass-url',
    `${baseUrl}/v1.0/${project}`,
  ]);
}

/** Where and as whom psql connects. */
export interface PgTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Runs SQL through Debian's psql (`-At`, stop on the first error); never throws on a non-zero exit. */
export function psql(t: PgTarget, sql: string): Promise<CliResult> {
  const args = ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', t.host, '-p', String(t.port), '-U', t.user, '-d', t.database, '-c', sql];
  return runCli(PSQL, args, 60_000, { PGPASSWORD: t.password, PGCONNECT_TIMEOUT: '10' });
}

/** psql that must succeed; returns its output lines. */
export async function psqlOk(t: PgTarget, sql: string): Promise<string[]> {
  const r = await psql(t, sql);
  if (r.code !== 0) throw new Error(`psql exit ${r.code}: ${sql}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** A Trove resource's status straight from /v1.0 (`gone` on 404): the cheap read while waiting. */
export async function troveStatus(
  baseUrl: string,
  project: string,
  kind: 'instances' | 'backups',
  id: string,
  token: string,
): Promise<string> {
  const res = await fetch(`${baseUrl}/v1.0/${project}/${kind}/${id}`, {
    headers: { 'x-auth-token': token },
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status === 404) {
    await res.body?.cancel();
    return 'gone';
  }
  if (res.status !== 200) throw new Error(`GET ${kind}/${id}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as Record<string, { status?: string; fault?: { message?: string } }>;
  const v = Object.values(body)[0];
  return v?.status === 'ERROR' ? `ERROR (${v.fault?.message ?? 'no fault'})` : String(v?.status);
}

/**
 * Waits until a Trove resource shows `want` (`gone` for a 404); throws at once on ERROR or
 * FAILED, and after `ms`, with the service's log tail.
 */
export async function waitTroveStatus(
  svc: { url: string; logTail: () => string },
  project: string,
  token: string,
  kind: 'instances' | 'backups',
  id: string,
  want: string,
  ms = 240_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const st = await troveStatus(svc.url, project, kind, id, token);
    if (st === want) return;
    if (st === 'ERROR' || st === 'FAILED' || Date.now() > deadline)
      throw new Error(`${kind}/${id} is ${st}, waiting for ${want}\n${svc.logTail()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
