import type { FastifyInstance, FastifyRequest } from 'fastify';

// Scraped and probed every few seconds: at info they would drown the log.
const PROBES = new Set(['/healthz', '/metrics']);

// The path's project, never the caller's: under noauth a token without a colon is its own project id.
function projectOf(req: FastifyRequest): string | undefined {
  return (req.params as { project_id?: string } | undefined)?.project_id;
}

/** Why a request failed, as its error body says: a Cinder/Trove fault or a CBR error. */
export interface FailureReason {
  /** The fault name (badRequest, itemNotFound ...) or CBR's error_code (BackupService.0001 ...). */
  error_code: string;
  /** The message sent to the caller (5xx ones are masked; the cause is logged apart with the request id). */
  reason: string;
}

/**
 * Reads the reason out of an error body: {"<fault>": {"code", "message"}} (Cinder, Trove) or
 * {"error_code", "error_msg"} (CBR). Undefined for anything else (a body that is not JSON).
 */
export function failureReason(payload: unknown): FailureReason | undefined {
  if (typeof payload !== 'string' || payload.length > 65_536 || !payload.startsWith('{')) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.error_code === 'string') return { error_code: b.error_code, reason: String(b.error_msg ?? '') };
  const keys = Object.keys(b);
  const inner = keys.length === 1 ? b[keys[0]!] : undefined;
  if (inner && typeof inner === 'object' && typeof (inner as { message?: unknown }).message === 'string') {
    return { error_code: keys[0]!, reason: (inner as { message: string }).message };
  }
  return undefined;
}

/**
 * One log line per request, once answered: method, path, status, duration, project and
 * (from the request logger) request_id; a 4xx or 5xx adds error_code and reason from its
 * error body. Fastify's own two lines are off (disableRequestLogging).
 */
export function registerRequestLog(app: FastifyInstance): void {
  const reasons = new WeakMap<FastifyRequest, FailureReason>();
  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode >= 400) {
      const why = failureReason(payload);
      if (why) reasons.set(req, why);
    }
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const path = req.url.split('?', 1)[0]!;
    const fields = {
      method: req.method,
      path,
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 10) / 10,
      // NOTE: no user id: under noauth it is part of the token, which logs must never carry.
      project_id: projectOf(req),
      ...reasons.get(req),
    };
    if (PROBES.has(path) && reply.statusCode < 500) req.log.debug(fields, 'request');
    else req.log.info(fields, 'request');
  });
}
