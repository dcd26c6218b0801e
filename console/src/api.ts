/** The public API as the console calls it: the caller's token, Cinder's newest microversion, faults as messages. */

export interface Session {
  token: string;
  /** The project id: the URL's {project_id}. */
  project: string;
  user: string;
}

const KEY = 'cbt-console-session';

/** The session lives in sessionStorage only: closing the tab forgets the token. */
export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  return raw ? (JSON.parse(raw) as Session) : null;
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/** An error answer of the API, with the service's own message (Cinder's fault body, or Trove's). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The message of a fault body such as {"itemNotFound": {"code": 404, "message": "..."}}, or CBR's {"error_code", "error_msg"}. */
export function faultMessage(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body.message === 'string') return body.message;
    if (typeof body.error_msg === 'string') return body.error_msg;
    const first = Object.values(body)[0] as { message?: unknown } | undefined;
    if (first && typeof first.message === 'string') return first.message;
  } catch {
    // not JSON: the text itself
  }
  return text || `HTTP ${status}`;
}

/** Calls `/{api}/{project}{path}` (api: v3 for Cinder, v1.0 for Trove, cbr/v3 for CBR) and returns the JSON body. */
export async function call<T = any>(s: Session, method: string, path: string, body?: unknown, api = 'v3'): Promise<T> {
  const headers: Record<string, string> = {
    'x-auth-token': s.token,
    'openstack-api-version': 'volume 3.70',
    accept: 'application/json',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/${api}/${s.project}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, faultMessage(res.status, text));
  return (text ? JSON.parse(text) : {}) as T;
}
