import pino from 'pino';
import { snapshotJobHandlers } from '../../src/domain/volumes/worker/snapshot-jobs.js';
import { volumeJobHandlers } from '../../src/domain/volumes/worker/volume-jobs.js';
import { type JobWorker, startJobWorker } from '../../src/jobs/worker.js';
import { authHeaders, createTestApp, type TestApp } from '../helpers/app.js';

/** Hex project ids (Cinder's project_id_regex): one admin project, two member projects. */
export const ADMIN = 'adadadad';
export const P1 = 'a1a1a1a1';
export const P2 = 'b2b2b2b2';

export interface VolumeTestApp extends TestApp {
  worker: JobWorker;
  /** Stops the job worker (running jobs finish first): nothing changes rows until resumeJobs(). */
  pauseJobs(): Promise<void>;
  /** Starts a new job worker after pauseJobs(). */
  resumeJobs(): void;
  /** Polls (bounded) until GET returns `status` (or 404 when status is null). */
  waitFor(kind: 'volumes' | 'snapshots', id: string, status: string | null, project?: string): Promise<Record<string, unknown> | null>;
  req(
    method: string,
    url: string,
    opts?: { project?: string; version?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; json: any; headers: Record<string, unknown>; raw: Buffer }>;
}

/** The real app (file volumes in a temp DATA_DIR, real Postgres) with a job worker running the copy jobs. */
export async function createVolumeTestApp(env: Record<string, string> = {}): Promise<VolumeTestApp> {
  const base = await createTestApp({ NOAUTH_ADMIN_PROJECTS: ADMIN, ...env });
  const startWorker = () =>
    startJobWorker({
      db: base.deps.db,
      owner: 'test-worker',
      hostId: base.config.HOST_ID,
      handlers: { ...snapshotJobHandlers(base.deps), ...volumeJobHandlers(base.deps) },
      maxConcurrent: 2,
      leaseSeconds: 30,
      pollMs: 50,
      logger: pino({ level: 'silent' }),
    });
  let worker = startWorker();
  base.deps.wakeJobs = () => worker.wake();
  const req: VolumeTestApp['req'] = async (method, url, opts = {}) => {
    const headers = { ...authHeaders(opts.project ?? P1, { version: opts.version }), ...(opts.headers ?? {}) };
    const res = await base.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
    });
    let json: unknown = null;
    try {
      json = res.body ? JSON.parse(res.body) : null;
    } catch {
      json = null;
    }
    return { status: res.statusCode, json, headers: res.headers, raw: res.rawPayload };
  };
  const waitFor: VolumeTestApp['waitFor'] = async (kind, id, status, project = P1) => {
    const key = kind === 'volumes' ? 'volume' : 'snapshot';
    for (let i = 0; i < 300; i++) {
      const r = await req('GET', `/v3/${project}/${kind}/${id}`, { project });
      if (status === null && r.status === 404) return null;
      if (r.status === 200 && r.json[key].status === status) return r.json[key];
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`${kind} ${id} never reached ${status}`);
  };
  return {
    ...base,
    get worker() {
      return worker;
    },
    pauseJobs: () => worker.stop(),
    resumeJobs: () => {
      worker = startWorker();
      worker.wake();
    },
    req,
    waitFor,
    close: async () => {
      await worker.stop();
      await base.close();
    },
  };
}

/** Creates a volume and waits until it is available; returns its id. */
export async function makeVolume(t: VolumeTestApp, body: Record<string, unknown> = {}, project = P1): Promise<string> {
  const r = await t.req('POST', `/v3/${project}/volumes`, { project, body: { volume: { size: 1, ...body } } });
  if (r.status !== 202) throw new Error(`create volume: ${r.status} ${JSON.stringify(r.json)}`);
  await t.waitFor('volumes', r.json.volume.id, 'available', project);
  return r.json.volume.id;
}
