import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { listOperationLogsOf, showOperationLog } from '../../domain/cbr/operation-logs/operation-logs.js';
import { ProjectParams, errorResponses } from './common.schemas.js';
import { ListOperationLogsQuery, OperationLogBody, OperationLogList } from './operation-logs.schemas.js';

const tags = ['operation-logs'];

/** T1/T2: the tasks clients poll (a restore's job_id is its operation log's id). */
export async function operationLogRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/operation-logs',
    {
      schema: {
        tags,
        summary: 'List operation logs (tasks) with their progress',
        params: ProjectParams,
        querystring: ListOperationLogsQuery,
        response: { 200: OperationLogList, ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 1000;
      const offset = q.offset ?? 0;
      const { logs, count } = await listOperationLogsOf(
        deps.db,
        req.ctx,
        {
          operationType: q.operation_type,
          status: q.status,
          vaultId: q.vault_id,
          vaultName: q.vault_name,
          resourceId: q.resource_id,
          resourceName: q.resource_name,
          startTime: q.start_time,
          endTime: q.end_time,
        },
        offset,
        limit,
      );
      return { operation_logs: logs, count, limit, offset };
    },
  );

  r.get(
    '/operation-logs/:operation_log_id',
    {
      schema: {
        tags,
        summary: 'Show an operation log',
        params: ProjectParams.extend({ operation_log_id: z.string() }),
        response: { 200: OperationLogBody, ...errorResponses },
      },
    },
    async (req) => ({ operation_log: await showOperationLog(deps.db, req.ctx, req.params.operation_log_id) }),
  );
}
