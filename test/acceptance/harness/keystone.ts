import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../src/db/embedded.js';

const run = promisify(execFile);
const SCRIPTS = resolve(import.meta.dirname, '../../../scripts/keystone');

/** A running Keystone seeded by scripts/keystone/start-keystone.sh, and what the seed printed. */
export interface KeystoneEnv {
  /** OS_AUTH_URL, e.g. http://127.0.0.1:5000/v3 */
  authUrl: string;
  /** KEYSTONE_URL for the service (no /v3). */
  url: string;
  service: { username: string; password: string; project: string };
  adminPassword: string;
  /** Password of alice, rita and bob. */
  testPassword: string;
  adminProjectId: string;
  alphaProjectId: string;
  betaProjectId: string;
  users: { alice: string; rita: string; bob: string };
  /** Stops and purges a Keystone this call started; a shared one (TEST_KEYSTONE_DIR) is left running. */
  stop(): Promise<void>;
}

function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  return env;
}

/**
 * Starts (or reuses) a Keystone and registers `volumeEndpoint` as the volumev3 and
 * block-storage endpoints, and `imageEndpoint` and `computeEndpoint` (when given) as the image and
 * compute endpoints. TEST_KEYSTONE_DIR/TEST_KEYSTONE_PORT select a shared instance that CI started
 * once; otherwise a private one on a free port is started and purged by stop().
 */
export async function startKeystone(volumeEndpoint: string, imageEndpoint?: string, computeEndpoint?: string): Promise<KeystoneEnv> {
  const shared = process.env.TEST_KEYSTONE_DIR;
  const dir = shared ?? mkdtempSync(join(tmpdir(), 'cbt-keystone-'));
  const port = process.env.TEST_KEYSTONE_PORT ?? String(await freePort());
  const childEnv = { ...process.env, KEYSTONE_DIR: dir, KEYSTONE_PORT: port };
  let stdout: string;
  try {
    ({ stdout } = await run(join(SCRIPTS, 'start-keystone.sh'), [volumeEndpoint, imageEndpoint ?? '', computeEndpoint ?? ''], {
      env: childEnv,
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`start-keystone.sh failed: ${e.message}\n${(e.stderr ?? '').slice(-4000)}`);
  }
  return keystoneEnv(stdout, async () => {
    if (shared) return;
    await run(join(SCRIPTS, 'stop-keystone.sh'), ['--purge'], { env: childEnv, timeout: 60_000 });
  });
}

/**
 * The Keystone CI shares (TEST_KEYSTONE_DIR) as its seed left it, without seeding it again: the
 * catalog another file registered stays as it is. Without a shared one, starts a private one.
 */
export async function sharedOrPrivateKeystone(): Promise<KeystoneEnv> {
  const shared = process.env.TEST_KEYSTONE_DIR;
  if (shared && existsSync(join(shared, 'env'))) return keystoneEnv(readFileSync(join(shared, 'env'), 'utf8'), async () => {});
  return startKeystone('http://127.0.0.1:8776/v3/%(project_id)s');
}

function keystoneEnv(stdout: string, stop: () => Promise<void>): KeystoneEnv {
  const env = parseExports(stdout);
  const need = (k: string): string => {
    const v = env[k];
    if (!v) throw new Error(`start-keystone.sh did not print ${k}`);
    return v;
  };
  return {
    authUrl: need('OS_AUTH_URL'),
    url: need('KEYSTONE_URL'),
    service: { username: need('KEYSTONE_USERNAME'), password: need('KEYSTONE_PASSWORD'), project: need('KEYSTONE_PROJECT') },
    adminPassword: need('KEYSTONE_ADMIN_PASSWORD'),
    testPassword: need('KEYSTONE_TEST_PASSWORD'),
    adminProjectId: need('KEYSTONE_ADMIN_PROJECT_ID'),
    alphaProjectId: need('KEYSTONE_ALPHA_PROJECT_ID'),
    betaProjectId: need('KEYSTONE_BETA_PROJECT_ID'),
    users: { alice: need('KEYSTONE_ALICE_USER_ID'), rita: need('KEYSTONE_RITA_USER_ID'), bob: need('KEYSTONE_BOB_USER_ID') },
    stop,
  };
}

/** The service's environment for AUTH_STRATEGY=keystone against `ks` (tokens cached 60 s). */
export function keystoneServiceEnv(ks: KeystoneEnv): Record<string, string> {
  return {
    AUTH_STRATEGY: 'keystone',
    KEYSTONE_URL: ks.url,
    KEYSTONE_USERNAME: ks.service.username,
    KEYSTONE_PASSWORD: ks.service.password,
    KEYSTONE_PROJECT: ks.service.project,
    KEYSTONE_CACHE_SECONDS: '60',
  };
}

/** A password-scoped token straight from Keystone (POST /v3/auth/tokens), as a client would get it. */
export async function issueToken(ks: KeystoneEnv, user: string, password: string, projectName: string): Promise<string> {
  const res = await fetch(`${ks.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
        scope: { project: { name: projectName, domain: { id: 'default' } } },
      },
    }),
    signal: AbortSignal.timeout(30_000),
  });
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) throw new Error(`token for ${user} failed: ${res.status} ${await res.text()}`);
  return token;
}

/** Revokes a token (DELETE /v3/auth/tokens), authenticated by the token itself. */
export async function revokeToken(ks: KeystoneEnv, token: string): Promise<void> {
  const res = await fetch(`${ks.authUrl}/auth/tokens`, {
    method: 'DELETE',
    headers: { 'x-auth-token': token, 'x-subject-token': token },
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 204) throw new Error(`revoke failed: ${res.status} ${await res.text()}`);
}
