import type { FastifyInstance } from 'fastify';

/** GET /healthz: the process answers and the database does too (`ping` rejects when it does not). */
export async function healthRoutes(app: FastifyInstance, opts: { ping: () => Promise<void> }): Promise<void> {
  app.get('/healthz', { schema: { summary: 'Process and database health (extension)', tags: ['extensions'] } }, async (_req, reply) => {
    try {
      await opts.ping();
      return { status: 'ok', database: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'degraded', database: 'unreachable' });
    }
  });
}
