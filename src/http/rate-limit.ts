import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpFault } from './faults.js';

/**
 * The bucket a request counts against: the authenticated project, else the project of a
 * noauth-style `user:project` token, else the client address (unauthenticated callers).
 */
export function rateLimitKey(req: FastifyRequest): string {
  if (req.ctx?.projectId) return `project:${req.ctx.projectId}`;
  const raw = req.headers['x-auth-token'];
  const token = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (token) return `project:${token.includes(':') ? token.slice(token.indexOf(':') + 1) : token}`;
  return `ip:${req.ip}`;
}

/**
 * Per-project request limit for the instance it is registered on (the /v3 API), off when
 * `perMinute` is 0. Runs as a preHandler, after authentication, so the key is the caller's
 * real project; an exceeded limit is a Cinder 429 overLimit fault with Retry-After.
 * Counters are per process (in memory): N API processes allow up to N x the limit.
 */
export async function registerRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  if (perMinute <= 0) return;
  await app.register(rateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    hook: 'preHandler',
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_req, ctx) =>
      new HttpFault(
        429,
        'overLimit',
        `Rate limit exceeded: at most ${ctx.max} requests per minute per project. Retry after ${ctx.after}.`,
        Math.max(1, Math.ceil(ctx.ttl / 1000)),
      ),
  });
}
