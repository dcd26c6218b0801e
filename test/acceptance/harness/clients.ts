import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Exit code and output of one client run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The command line, for failure messages. */
  command: string;
}

// Debian's clients, never a pyenv shim that may shadow them on PATH.
export const CINDER = '/usr/bin/cinder';
export const OPENSTACK = '/usr/bin/openstack';

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // The clients read OS_* variables: nothing from the caller's shell may leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_') && !k.startsWith('PYTHON')));
  return { ...env, PYTHONWARNINGS: 'ignore', LC_ALL: 'C.UTF-8', ...extra };
}

/** Runs a client binary with a bounded time; never throws on a non-zero exit. */
export function runCli(bin: string, args: string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<CliResult> {
  const command = [bin, ...args].join(' ');
  return new Promise((resolve) => {
    execFile(bin, args, { env: cleanEnv(env), timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 124) : 0;
      resolve({ code, stdout, stderr, command });
    });
  });
}

/** A client bound to one identity: `args` are prepended with the auth options. */
export interface Client {
  run(args: string[], mv?: string): Promise<CliResult>;
  /** Runs and expects exit 0; returns stdout. */
  ok(args: string[], mv?: string): Promise<string>;
  /** Runs and expects a non-zero exit; returns stdout + stderr. */
  fails(args: string[], mv?: string): Promise<string>;
}

function bind(bin: string, authArgs: string[], mvFlag: string, defaultMv: string | undefined, env: Record<string, string> = {}): Client {
  const run = (args: string[], mv = defaultMv) => runCli(bin, [...authArgs, ...(mv ? [mvFlag, mv] : []), ...args], undefined, env);
  return {
    run,
    async ok(args, mv) {
      const r = await run(args, mv);
      if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.command}\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    },
    async fails(args, mv) {
      const r = await run(args, mv);
      if (r.code === 0) throw new Error(`expected a failure: ${r.command}\n${r.stdout}`);
      return `${r.stdout}\n${r.stderr}`;
    },
  };
}

/** `cinder` with Cinder's noauth plugin; the endpoint carries the project id. */
export function cinderNoauth(baseUrl: string, user: string, project: string, mv?: string): Client {
  const auth = ['--os-auth-type', 'noauth', '--os-user-id', user, '--os-project-id', project, '--os-endpoint', `${baseUrl}/v3/${project}`];
  return bind(CINDER, auth, '--os-volume-api-version', mv);
}

/**
 * A clouds.yaml whose one cloud declares that there is no image service. OSC 6.0's
 * `volume create` always builds the image client (openstackclient/volume/v2/volume.py), and
 * with cinderclient's noauth plugin the SDK cannot build it at all: without an endpoint it
 * finds "no supported versions", and with `image_endpoint_override` discovery fails on the
 * plugin (CinderNoAuthPlugin skips BaseAuthPlugin.__init__, so `_discovery_cache` is
 * missing). `has_image: false` gives the SDK's disabled-service shim, which fails only when
 * used (`--image`). The README documents the same file for noauth users.
 */
export const NOAUTH_CLOUD = 'cinder-noauth';
let noauthCloudsFile: string | undefined;
function noauthCloudsYaml(): string {
  if (!noauthCloudsFile) {
    const dir = join(tmpdir(), `cbt-osc-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    noauthCloudsFile = join(dir, 'clouds.yaml');
    writeFileSync(noauthCloudsFile, `clouds:\n  ${NOAUTH_CLOUD}:\n    has_image: false\n`);
  }
  return noauthCloudsFile;
}

/** `openstack` with noauth; it appends the project id to the endpoint itself. */
export function openstackNoauth(baseUrl: string, user: string, project: string, mv?: string): Client {
  const auth = [
    '--os-cloud',
    NOAUTH_CLOUD,
    '--os-auth-type',
    'noauth',
    '--os-user-id',
    user,
    '--os-project-id',
    project,
    '--os-endpoint',
    `${baseUrl}/v3`,
  ];
  return bind(OPENSTACK, auth, '--os-volume-api-version', mv, { OS_CLIENT_CONFIG_FILE: noauthCloudsYaml() });
}

/** `cinder` with password authentication against Keystone (the catalog's volumev3 endpoint). */
export function cinderPassword(authUrl: string, user: string, password: string, project: string, mv?: string): Client {
  const auth = [
    '--os-auth-url',
    authUrl,
    '--os-username',
    user,
    '--os-password',
    password,
    '--os-project-name',
    project,
    '--os-user-domain-name',
    'Default',
    '--os-project-domain-name',
    'Default',
    '--os-endpoint-type',
    'public',
  ];
  return bind(CINDER, auth, '--os-volume-api-version', mv);
}

/** `openstack` with password authentication against Keystone (the catalog gives the endpoint). */
export function openstackPassword(authUrl: string, user: string, password: string, project: string, mv?: string): Client {
  const auth = [
    '--os-auth-type',
    'password',
    '--os-auth-url',
    authUrl,
    '--os-identity-api-version',
    '3',
    '--os-username',
    user,
    '--os-password',
    password,
    '--os-project-name',
    project,
    '--os-user-domain-name',
    'Default',
    '--os-project-domain-name',
    'Default',
    '--os-interface',
    'public',
  ];
  return bind(OPENSTACK, auth, '--os-volume-api-version', mv);
}

/**
 * Parses a prettytable (cinder's and openstack's default output) into rows keyed by header.
 * Multi-line cells are joined with '\n'.
 */
export function parseTable(text: string): Record<string, string>[] {
  const rows = text.split('\n').filter((l) => l.startsWith('|'));
  if (rows.length === 0) return [];
  const cells = (l: string) =>
    l
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  const header = cells(rows[0]!);
  const out: Record<string, string>[] = [];
  for (const line of rows.slice(1)) {
    const c = cells(line);
    const continuation = c[0] === '' && out.length > 0;
    if (continuation) {
      const last = out[out.length - 1]!;
      header.forEach((h, i) => {
        if (c[i]) last[h] = last[h] ? `${last[h]}\n${c[i]}` : c[i]!;
      });
    } else {
      out.push(Object.fromEntries(header.map((h, i) => [h, c[i] ?? ''])));
    }
  }
  return out;
}

/** A `| Property | Value |` table (cinder show/create) as an object. */
export function parseProperties(text: string): Record<string, string> {
  return Object.fromEntries(parseTable(text).map((r) => [r.Property ?? r.Field ?? '', r.Value ?? '']));
}

/**
 * Waits until the resource shows one of `want`; fails at once on a status in `failOn`, and
 * after `timeoutMs`. `read` is the client's own view (`show`); it is used for the first and the
 * last read, so the client prints the statuses the test relies on. `poll` (a direct API read,
 * see apiStatus) serves the reads in between when given, because each client run costs a
 * Python start-up. With `via`, every status seen must be one of `via` or `want`: the path the
 * client and the API show on the way is asserted, not only where it ends. Returns the
 * statuses seen, in order.
 */
export async function waitForStatus(
  read: () => Promise<string>,
  want: string | string[],
  opts: { timeoutMs?: number; failOn?: string[]; intervalMs?: number; poll?: () => Promise<string>; via?: string[] } = {},
): Promise<string[]> {
  const wanted = Array.isArray(want) ? want : [want];
  const failOn = opts.failOn ?? ['error', 'error_restoring', 'error_deleting', 'error_extending'];
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const seen: string[] = [];
  const note = (s: string) => {
    if (seen[seen.length - 1] !== s) seen.push(s);
    if (failOn.includes(s) && !wanted.includes(s)) throw new Error(`status became ${s}; seen ${seen.join(' -> ')}`);
    if (opts.via && !opts.via.includes(s) && !wanted.includes(s)) {
      throw new Error(`status ${s} on the way to ${wanted.join('|')} (expected only ${opts.via.join(', ')}); seen ${seen.join(' -> ')}`);
    }
  };
  let s = await read();
  let fromClient = true;
  note(s);
  for (;;) {
    if (wanted.includes(s)) {
      if (fromClient) return seen;
      // Reached through the API: the client must show it too.
      s = await read();
      fromClient = true;
      note(s);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${wanted.join('|')}; seen ${seen.join(' -> ')}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? (opts.poll ? 100 : 300)));
    s = await (opts.poll ?? read)();
    fromClient = !opts.poll;
    note(s);
  }
}
