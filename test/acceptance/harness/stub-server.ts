import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback stand-in for another service in the Keystone catalog, and the requests it got. */
export interface StubServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** Every "METHOD path" received, in order (tests assert nothing else was needed). */
  requests: string[];
  close(): Promise<void>;
}

/** What a stub answers: a status and a JSON body. */
export interface StubAnswer {
  status: number;
  body: unknown;
}

/** Serves `answer(method, path, base)` as JSON on a free loopback port; `base` is the stub's own URL. */
export async function startStubServer(answer: (method: string, path: string, base: string) => StubAnswer): Promise<StubServer> {
  const requests: string[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(`${method} ${path}`);
    req.resume();
    const { status, body } = answer(method, path, base);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
