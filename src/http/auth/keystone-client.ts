import { DomainError } from '../../domain/common/errors.js';

/** The service's own password credentials, used to obtain the token that validates callers' tokens. */
export interface KeystoneServiceCredentials {
  /** Keystone's base URL, with or without a trailing /v3. */
  url: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  /** Per-request timeout towards Keystone. */
  timeoutMs: number;
}

/** The parts of a Keystone v3 token body we read. */
export interface KeystoneToken {
  expiresAt: number;
  userId: string;
  /** Undefined for unscoped, domain- or system-scoped tokens. */
  projectId: string | undefined;
  roles: string[];
}

/** What validating a caller's token can yield. */
export type ValidationResult = { kind: 'valid'; token: KeystoneToken } | { kind: 'invalid' } | { kind: 'service_token_rejected' };

const UNAVAILABLE = 'Keystone is unavailable; the request cannot be authenticated.';

/** `{base}/v3/auth/tokens` whether or not KEYSTONE_URL already ends in /v3. */
export function tokensUrl(base: string): string {
  const trimmed = base.replace(/\/+$/, '').replace(/\/v3$/, '');
  return `${trimmed}/v3/auth/tokens`;
}

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    // Refused connection, DNS failure or timeout: the caller's token is not at fault.
    throw Object.assign(new DomainError('unavailable', UNAVAILABLE), { cause: err });
  }
}

function parseToken(body: unknown): KeystoneToken {
  const token = (body as { token?: Record<string, unknown> } | null)?.token;
  const user = token?.user as { id?: unknown } | undefined;
  const expires = Date.parse(String(token?.expires_at ?? ''));
  if (!token || typeof user?.id !== 'string' || Number.isNaN(expires)) {
    throw new DomainError('unavailable', 'Keystone returned a token body this service cannot read.');
  }
  const project = token.project as { id?: unknown } | undefined;
  const roles = Array.isArray(token.roles) ? (token.roles as { name?: unknown }[]) : [];
  return {
    expiresAt: expires,
    userId: user.id,
    projectId: typeof project?.id === 'string' ? project.id : undefined,
    roles: roles.map((r) => String(r.name ?? '').toLowerCase()).filter(Boolean),
  };
}

/**
 * Issues a project-scoped token for the service user (`POST /v3/auth/tokens`).
 * Throws DomainError('unavailable') when Keystone cannot be reached or refuses the credentials.
 */
export async function issueServiceToken(creds: KeystoneServiceCredentials): Promise<{ id: string; expiresAt: number }> {
  const body = {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: creds.username, domain: { name: creds.userDomainName }, password: creds.password } },
      },
      scope: { project: { name: creds.projectName, domain: { name: creds.projectDomainName } } },
    },
  };
  const res = await call(
    tokensUrl(creds.url),
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    creds.timeoutMs,
  );
  const id = res.headers.get('x-subject-token');
  if (res.status !== 201 || !id) {
    await res.body?.cancel();
    // NOTE: wrong service credentials are an operator error; callers see 503, never 401.
    throw new DomainError('unavailable', `${UNAVAILABLE} (service authentication answered ${res.status})`);
  }
  return { id, expiresAt: parseToken(await res.json()).expiresAt };
}

/**
 * Validates a caller's token (`GET /v3/auth/tokens` with X-Subject-Token).
 * Keystone answers 404 for invalid, expired and revoked tokens alike, and 401 when
 * the service token itself is no longer accepted. Other failures throw 'unavailable'.
 */
export async function validateToken(
  creds: KeystoneServiceCredentials,
  serviceToken: string,
  subjectToken: string,
): Promise<ValidationResult> {
  const res = await call(
    tokensUrl(creds.url),
    { method: 'GET', headers: { 'x-auth-token': serviceToken, 'x-subject-token': subjectToken, accept: 'application/json' } },
    creds.timeoutMs,
  );
  if (res.status === 200) return { kind: 'valid', token: parseToken(await res.json()) };
  await res.body?.cancel();
  if (res.status === 404 || res.status === 400) return { kind: 'invalid' };
  if (res.status === 401) return { kind: 'service_token_rejected' };
  throw new DomainError('unavailable', `${UNAVAILABLE} (token validation answered ${res.status})`);
}

/** A caller's password sign-in, as the console forwards it (Keystone is another origin for the page). */
export interface KeystonePasswordSignIn {
  username: string;
  password: string;
  projectName: string;
  /** Domain of both the user and the project. */
  domainName: string;
}

/**
 * Exchanges a caller's password for a project-scoped token (`POST /v3/auth/tokens`), exactly what
 * a client would do against Keystone. Refusals come back with Keystone's status and message;
 * an unreachable Keystone throws DomainError('unavailable').
 */
export async function issueUserToken(
  url: string,
  signIn: KeystonePasswordSignIn,
  timeoutMs: number,
): Promise<{ kind: 'issued'; id: string; projectId: string; expiresAt: number } | { kind: 'refused'; status: number; message: string }> {
  const domain = { name: signIn.domainName };
  const body = {
    auth: {
      identity: { methods: ['password'], password: { user: { name: signIn.username, domain, password: signIn.password } } },
      scope: { project: { name: signIn.projectName, domain } },
    },
  };
  const res = await call(
    tokensUrl(url),
    { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) },
    timeoutMs,
  );
  const id = res.headers.get('x-subject-token');
  if (res.status === 201 && id) {
    const token = parseToken(await res.json());
    if (token.projectId) return { kind: 'issued', id, projectId: token.projectId, expiresAt: token.expiresAt };
    return { kind: 'refused', status: 401, message: 'Keystone issued a token without a project.' };
  }
  const text = await res.text();
  let message = `Keystone answered ${res.status}.`;
  try {
    message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
  } catch {
    // not JSON: keep the status line
  }
  if (res.status >= 500) throw new DomainError('unavailable', `${UNAVAILABLE} (${message})`);
  return { kind: 'refused', status: res.status === 400 ? 400 : 401, message };
}
