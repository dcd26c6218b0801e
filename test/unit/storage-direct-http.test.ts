import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectHttpAgent, readInto, UnsupportedResponse, type DirectGet } from '../../src/storage/direct-http.js';
import { readAll } from '../../src/storage/resumable-body.js';

/** What a scripted server does with one request on one connection. */
type Answer = (socket: Socket, request: string, connection: number) => void;

interface Scripted {
  port: number;
  /** Requests seen, with the number of the connection each came on. */
  requests: { head: string; connection: number }[];
  /** Connections open at once, at most. */
  peak: number;
  server: Server;
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A raw TCP server that reads request heads and answers each with `answer`. */
async function scripted(answer: Answer): Promise<Scripted> {
  let connections = 0;
  let open = 0;
  const state: Scripted = { port: 0, requests: [], peak: 0, server: undefined as unknown as Server };
  state.server = createServer((socket) => {
    const connection = ++connections;
    state.peak = Math.max(state.peak, ++open);
    socket.on('close', () => open--).on('error', () => {});
    let pending = '';
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let at = pending.indexOf('\r\n\r\n'); at >= 0; at = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, at);
        pending = pending.slice(at + 4);
        state.requests.push({ head, connection });
        answer(socket, head, connection);
      }
    });
  });
  servers.push(state.server);
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

const ok = (body: Buffer, extra = '') =>
  Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\netag: "e"${extra}\r\n\r\n`), body]);
const request = (port: number, path = '/b/k?x-id=GetObject', extra: Partial<DirectGet> = {}): DirectGet => ({
  host: '127.0.0.1',
  port,
  path,
  headers: { host: `127.0.0.1:${port}`, authorization: 'AWS4-HMAC-SHA256 test' },
  timeoutMs: 5_000,
  ...extra,
});

describe('DirectHttpAgent', () => {
  it('reads a body straight into the caller buffer and reuses the connection for the next GET', async () => {
    const bodies = [randomBytes(3 * 1024 * 1024 + 5), randomBytes(70_000)];
    const server = await scripted((socket, _head) => {
      const body = bodies[server.requests.length - 1]!;
      const bytes = ok(body);
      // The head and the first bytes together, the rest in pieces, as a server streams it.
      socket.write(bytes.subarray(0, 1000));
      setTimeout(() => socket.write(bytes.subarray(1000)), 5);
    });
    const agent = new DirectHttpAgent(4);
    const shared = new SharedArrayBuffer(4 * 1024 * 1024);
    for (const body of bodies) {
      const res = await agent.get(request(server.port));
      expect(res.statusCode).toBe(200);
      expect(res.headers.etag).toBe('"e"');
      expect(res.body.length).toBe(body.length);
      const target = new Uint8Array(shared);
      expect(await res.body[readInto](target)).toBe(body.length);
      expect(Buffer.from(shared, 0, body.length).equals(body)).toBe(true);
      expect(res.body.failure).toBeUndefined();
    }
    expect(server.requests.map((r) => r.connection)).toEqual([1, 1]);
    expect(server.requests[0]!.head).toMatch(/^GET \/b\/k\?x-id=GetObject HTTP\/1\.1\r\n/);
    expect(server.requests[0]!.head).toContain('authorization: AWS4-HMAC-SHA256 test');
    agent.destroy();
  });

  it('reads a body as an ordinary stream too (how the SDK reads an error document)', async () => {
    const xml = Buffer.from('<Error><Code>NoSuchKey</Code></Error>'.repeat(4000));
    const server = await scripted((socket) => {
      socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 404 Not Found\r\ncontent-length: ${xml.length}\r\n\r\n`), xml]));
    });
    const agent = new DirectHttpAgent(4);
    for (let i = 0; i < 2; i++) {
      const res = await agent.get(request(server.port));
      expect(res.statusCode).toBe(404);
      expect((await readAll(res.body)).equals(xml)).toBe(true);
    }
    expect(server.requests.map((r) => r.connection)).toEqual([1, 1]);
    agent.destroy();
  });

  it('resolves short with the reason when the body breaks off, and does not reuse that connection', async () => {
    const body = randomBytes(200_000);
    const server = await scripted((socket, _head, connection) => {
      if (connection === 1) socket.end(ok(body).subarray(0, 50_000));
      else socket.write(ok(body));
    });
    const agent = new DirectHttpAgent(4);
    const target = new Uint8Array(body.length);
    const broken = await agent.get(request(server.port));
    const got = await broken.body[readInto](target);
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(body.length);
    expect(Buffer.from(target.subarray(0, got)).equals(body.subarray(0, got))).toBe(true);
    expect((broken.body.failure as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    const whole = await agent.get(request(server.port));
    expect(await whole.body[readInto](target)).toBe(body.length);
    expect(Buffer.from(target).equals(body)).toBe(true);
    expect(server.requests.map((r) => r.connection)).toEqual([1, 2]);
    agent.destroy();
  });

  it('retries once on a fresh connection when the server closed an idle one', async () => {
    const body = randomBytes(1000);
    const server = await scripted((socket) => socket.end(ok(body, '\r\nconnection: keep-alive')));
    const agent = new DirectHttpAgent(4);
    for (let i = 0; i < 3; i++) {
      const res = await agent.get(request(server.port));
      const target = new Uint8Array(body.length);
      expect(await res.body[readInto](target)).toBe(body.length);
      // Let the server's FIN arrive before the next request goes out on that connection.
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(new Set(server.requests.map((r) => r.connection)).size).toBe(3);
    agent.destroy();
  });

  it('reports a chunked or 1xx response as unsupported, for the caller to resend another way', async () => {
    const server = await scripted((socket, head) => {
      if (head.includes('/chunked')) socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
      else socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    });
    const agent = new DirectHttpAgent(1);
    await expect(agent.get(request(server.port, '/chunked'))).rejects.toBeInstanceOf(UnsupportedResponse);
    await expect(agent.get(request(server.port, '/continue'))).rejects.toBeInstanceOf(UnsupportedResponse);
    // Both slots were given back: with one socket allowed, a third GET still goes out.
    await expect(agent.get(request(server.port, '/chunked'))).rejects.toBeInstanceOf(UnsupportedResponse);
    agent.destroy();
  });

  it('keeps at most maxSockets connections busy at once', async () => {
    const body = randomBytes(10_000);
    const server = await scripted((socket) => setTimeout(() => socket.write(ok(body)), 10));
    const agent = new DirectHttpAgent(2);
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await agent.get(request(server.port));
        await res.body[readInto](new Uint8Array(body.length));
      }),
    );
    expect(server.requests).toHaveLength(6);
    expect(server.peak).toBe(2);
    agent.destroy();
  });

  it('times out a server that never answers, as a TimeoutError the SDK retries', async () => {
    const server = await scripted(() => {});
    const agent = new DirectHttpAgent(1);
    const err = await agent.get(request(server.port, '/', { timeoutMs: 200 })).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
    agent.destroy();
  });

  it('aborts a GET whose signal fires before the answer', async () => {
    const server = await scripted(() => {});
    const agent = new DirectHttpAgent(1);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const err = await agent.get(request(server.port, '/', { signal: abort.signal })).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    agent.destroy();
  });

  it('refuses to put a line break into a request', async () => {
    const server = await scripted(() => {});
    const agent = new DirectHttpAgent(1);
    const bad = request(server.port, '/', { headers: { 'x-evil': 'a\r\nx-injected: 1' } });
    await expect(agent.get(bad)).rejects.toThrow('line break');
    expect(server.requests).toHaveLength(0);
    agent.destroy();
  });
});
