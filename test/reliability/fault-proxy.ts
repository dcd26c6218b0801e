import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of an S3 server (moto_server).
 * On a seeded schedule it answers 500 InternalError or 503 SlowDown (S3 XML bodies),
 * resets the connection mid-body, stalls (never answers until the client gives up, or
 * stops mid-body), or truncates the body (true Content-Length, half the bytes, then FIN;
 * a bodiless answer is cut before its headers). Some faults hit
 * after the request reached the server, so a PUT that "failed" was in fact stored:
 * the client's re-put must be idempotent.
 */

export type FaultKind = 'error500' | 'slowdown503' | 'reset' | 'stall' | 'stallBody' | 'truncate' | 'error500After';
export const ALL_FAULTS: FaultKind[] = ['error500', 'slowdown503', 'reset', 'stall', 'stallBody', 'truncate', 'error500After'];

export interface FaultProxyOptions {
  seed: number;
  /** Probability that a request gets a fault (0..1). */
  rate: number;
  kinds?: FaultKind[];
  /** A stalled request is cut after this long if the client has not given up (bounded). */
  maxStallMs?: number;
}

export interface FaultProxy {
  endpoint: string;
  /** Faults injected so far, by kind, and requests seen. */
  stats: { requests: number; injected: Record<FaultKind, number> };
  /** Changes the fault rate (0 disables faults). */
  setRate(rate: number): void;
  close(): Promise<void>;
}

/** mulberry32: a tiny seeded PRNG, so a failing schedule can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const s3Error = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function forward(
  target: URL,
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (res) => {
        readBody(res).then(
          (b) => resolve({ status: res.statusCode ?? 502, headers: res.headers as Record<string, string | string[]>, body: b }),
          reject,
        );
      },
    );
    up.on('error', reject);
    up.end(body);
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = s3Error(code, message);
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts the proxy in front of `upstream` (e.g. http://127.0.0.1:PORT of moto_server). */
export async function startFaultProxy(upstream: string, options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(upstream);
  const random = seededRandom(options.seed);
  const kinds = options.kinds ?? ALL_FAULTS;
  const maxStallMs = options.maxStallMs ?? 15_000;
  let rate = options.rate;
  const stats = { requests: 0, injected: Object.fromEntries(ALL_FAULTS.map((k) => [k, 0])) as Record<FaultKind, number> };
  const stalled = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    stats.requests++;
    const roll = random();
    const kind = roll < rate ? kinds[Math.floor(random() * kinds.length)]! : null;
    if (kind) stats.injected[kind]++;
    void (async () => {
      const body = await readBody(req);
      if (kind === 'error500') return sendError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      if (kind === 'slowdown503') return sendError(res, 503, 'SlowDown', 'Please reduce your request rate.');
      const stall = () => {
        stalled.add(res);
        const timer = setTimeout(() => res.socket?.destroy(), maxStallMs);
        res.on('close', () => (clearTimeout(timer), stalled.delete(res)));
      };
      if (kind === 'stall') return stall();
      const up = await forward(target, req, body);
      if (kind === 'error500After') return sendError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      const headers: Record<string, string | string[]> = { ...up.headers, 'content-length': String(up.body.length) };
      delete headers['transfer-encoding'];
      if ((kind === 'reset' || kind === 'truncate' || kind === 'stallBody') && up.body.length > 1) {
        res.writeHead(up.status, headers);
        res.write(up.body.subarray(0, Math.floor(up.body.length / 2)));
        if (kind === 'stallBody') return stall();
        // Let the partial body leave before cutting: RST for a reset, FIN for a truncation.
        setTimeout(() => (kind === 'reset' ? res.socket?.resetAndDestroy() : res.socket?.end()), 20);
        return;
      }
      if (kind === 'reset') return void req.socket.resetAndDestroy();
      if (kind === 'truncate') return void req.socket.end();
      if (kind === 'stallBody') return stall();
      res.writeHead(up.status, headers);
      res.end(up.body);
    })().catch(() => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    setRate: (r) => void (rate = r),
    close: async () => {
      for (const res of stalled) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Total faults injected. */
export const totalInjected = (p: FaultProxy): number => Object.values(p.stats.injected).reduce((a, b) => a + b, 0);
