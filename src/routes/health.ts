import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** GET /healthz: the process answers and the database does too. */
export async function healthRoutes(app: FastifyInstance, opts: { db: Kysely<Database> }): Promise<void> {
  app.get('/healthz', { schema: { summary: 'Process and database health (extension)', tags: ['extensions'] } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(opts.db);
      return { status: 'ok', database: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'degraded', database: 'unreachable' });
    }
  });
}
