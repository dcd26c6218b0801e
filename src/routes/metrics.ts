import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Existing metric of that name in the registry (an app built twice on one registry), else a new one. */
function counter(registry: Registry): Counter<'method' | 'route' | 'status_code'> {
  const name = 'cinder_http_requests_total';
  return (
    (registry.getSingleMetric(name) as Counter<'method' | 'route' | 'status_code'> | undefined) ??
    new Counter({
      name,
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status_code'],
      registers: [registry],
    })
  );
}

function histogram(registry: Registry): Histogram<'method' | 'route'> {
  const name = 'cinder_http_request_duration_seconds';
  return (
    (registry.getSingleMetric(name) as Histogram<'method' | 'route'> | undefined) ??
    new Histogram({
      name,
      help: 'HTTP request duration in seconds, by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    })
  );
}

/**
 * Counts and times every response of `app` (call on the root instance). Labels use the
 * route pattern (`/v3/:project_id/backups/:id`), never the raw URL, so cardinality is bounded.
 */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = counter(registry);
  const duration = histogram(registry);
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status_code: String(reply.statusCode) });
    duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
}

/**
 * GET /metrics: the Prometheus text format of the process registry (HTTP, engine, Node).
 * Unauthenticated, like /healthz: expose the port only where scrapers should reach it.
 */
export async function metricsRoutes(app: FastifyInstance, opts: { registry: Registry }): Promise<void> {
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (extension, unauthenticated)', tags: ['extensions'] } },
    async (_req, reply) => reply.type(opts.registry.contentType).send(await opts.registry.metrics()),
  );
}
