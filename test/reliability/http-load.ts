/** Latency and status bookkeeping for the load and database-fault suites (real HTTP on loopback). */
export interface LoadStats {
  requests: number;
  byStatus: Record<number, number>;
  latencies: number[];
  /** First few 5xx bodies, for the failure message. */
  serverErrors: string[];
  networkErrors: number;
}

export const newStats = (): LoadStats => ({ requests: 0, byStatus: {}, latencies: [], serverErrors: [], networkErrors: 0 });

/** One request through real HTTP; records status and latency; never throws on HTTP errors. */
export async function timed(
  stats: LoadStats,
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; json: any; text: string }> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        'x-auth-token': token,
        'openstack-api-version': 'volume 3.70',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    stats.requests++;
    stats.latencies.push(performance.now() - started);
    stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
    if (res.status >= 500 && stats.serverErrors.length < 5)
      stats.serverErrors.push(`${res.status} ${method} ${path}: ${text.slice(0, 300)}`);
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, json, text };
  } catch (err) {
    stats.networkErrors++;
    return { status: 0, json: null, text: String(err) };
  }
}

/** The p-th percentile (0..100) of the recorded latencies, in ms. */
export function percentile(stats: LoadStats, p: number): number {
  if (stats.latencies.length === 0) return 0;
  const sorted = [...stats.latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Counts of 5xx answers. */
export const serverErrorCount = (stats: LoadStats, except: number[] = []): number =>
  Object.entries(stats.byStatus)
    .filter(([s]) => Number(s) >= 500 && !except.includes(Number(s)))
    .reduce((n, [, c]) => n + c, 0);
