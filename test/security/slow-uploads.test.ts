import { type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P1, P2, type VolumeTestApp, createVolumeTestApp, makeVolume } from '../integration/volumes-fixture.js';

/**
 * Slow clients on the volume data route (loopback only, bounded): uploads that trickle one
 * byte at a time must not take the database away from other projects, must be limited per
 * project and per process, and must be cut off when idle or too long.
 */

const P3 = 'c3c3c3c3';
const P4 = 'd4d4d4d4';
const PER_PROJECT = 3;
const PER_PROCESS = 4;
let t: VolumeTestApp;
let port: number;

beforeAll(async () => {
  t = await createVolumeTestApp({
    DATA_UPLOADS_PER_PROJECT: String(PER_PROJECT),
    DATA_UPLOADS_PER_PROCESS: String(PER_PROCESS),
    DATA_UPLOAD_IDLE_TIMEOUT_SECONDS: '2',
    // Long enough that the first test's uploads still run when it counts them on a loaded machine.
    DATA_UPLOAD_TIMEOUT_SECONDS: '15',
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await t?.close();
});

interface Slow {
  socket: Socket;
  /** Resolves with the status code of the answer (0 when the connection closed without one). */
  answer: Promise<{ status: number; body: string; ms: number }>;
  stop(): void;
}

/** A PUT of `length` bytes that sends one byte every `everyMs` (or nothing at all when everyMs is 0). */
function slowUpload(project: string, volume: string, length: number, everyMs: number): Slow {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1');
  socket.write(
    `PUT /v3/${project}/volumes/${volume}/data HTTP/1.1\r\nHost: x\r\nX-Auth-Token: u:${project}\r\n` +
      `Content-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`,
  );
  let sent = 0;
  const timer =
    everyMs > 0
      ? setInterval(() => {
          if (sent < length && !socket.destroyed) {
            socket.write('Z');
            sent++;
          }
        }, everyMs)
      : undefined;
  let data = '';
  socket.on('data', (d) => {
    data += d.toString('latin1');
  });
  const answer = new Promise<{ status: number; body: string; ms: number }>((resolve) => {
    const done = () => {
      clearInterval(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      resolve({ status: m ? Number(m[1]) : 0, body: data.slice(data.indexOf('\r\n\r\n') + 4), ms: Date.now() - started });
    };
    socket.on('data', () => {
      if (/\r\n\r\n/.test(data)) {
        // A whole answer (headers and the small fault body) arrived.
        const len = /content-length: (\d+)/i.exec(data);
        if (!len || data.length - data.indexOf('\r\n\r\n') - 4 >= Number(len[1])) done();
      }
    });
    socket.on('close', done);
    socket.on('error', () => {});
  });
  return {
    socket,
    answer,
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

async function timed(url: string, project: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const r = await fetch(`http://127.0.0.1:${port}${url}`, { headers: { 'x-auth-token': `u:${project}` } });
  await r.arrayBuffer();
  return { status: r.status, ms: performance.now() - started };
}

async function latencies(n: number): Promise<Array<{ status: number; ms: number }>> {
  const out: Array<{ status: number; ms: number }> = [];
  for (let i = 0; i < n; i++) {
    out.push(await timed(`/v3/${P2}/volumes`, P2));
    out.push(await timed('/healthz', P2));
    await new Promise((r) => setTimeout(r, 100));
  }
  return out;
}

const max = (xs: Array<{ ms: number }>) => Math.max(...xs.map((x) => x.ms));

describe('slow volume data uploads', () => {
  it('keep other projects answered at normal latency: at most the per-project and per-process limits run, the rest get 413 at once', async () => {
    const volA = await makeVolume(t, {}, P1);
    const volC = await makeVolume(t, {}, P3);
    const volD = await makeVolume(t, {}, P4);
    await makeVolume(t, {}, P2);
    const before = await latencies(5);

    // The probe's attack, bounded: 11 uploads from one project at one byte per 400 ms
    // (more than the test database's pool of 5), then 2 from each of two more projects.
    const fromA = Array.from({ length: 11 }, () => slowUpload(P1, volA, 1000, 400));
    await new Promise((r) => setTimeout(r, 500));
    const others = [...[0, 1].map(() => slowUpload(P3, volC, 1000, 400)), ...[0, 1].map(() => slowUpload(P4, volD, 1000, 400))];
    await new Promise((r) => setTimeout(r, 500));
    const during = await latencies(8);
    const refused = await Promise.all(
      [...fromA, ...others].map(async (s) => {
        const r = await Promise.race([s.answer, new Promise<null>((res) => setTimeout(() => res(null), 50))]);
        return r;
      }),
    );
    for (const s of [...fromA, ...others]) s.stop();

    const answered = refused.filter((r) => r !== null);
    // A: 3 run, 8 refused by the project limit; C and D: the process has one slot left, so 3 of their 4 are refused.
    // Statuses and bodies in the failure message: an extra answer is a running upload cut off.
    expect(answered.map((r) => `${r!.status} ${r!.body.slice(0, 120)}`)).toHaveLength(15 - PER_PROCESS);
    for (const r of answered) {
      expect(r!.status).toBe(413);
      expect(JSON.parse(r!.body).overLimit.code).toBe(413);
    }
    const fromOthers = refused.slice(fromA.length);
    expect(fromOthers.filter((r) => r?.body.includes('on this server')).length).toBe(3);

    console.log(
      `other project during the attack: max ${max(during).toFixed(0)} ms over ${during.length} requests (before: max ${max(before).toFixed(0)} ms)`,
    );
    expect(during.every((r) => r.status === 200)).toBe(true);
    // Normal latency: the database pool answers at once (a pool held by the uploads gave 503 after 5 s).
    expect(max(during)).toBeLessThan(Math.max(1000, 5 * max(before)));
  });

  it('cuts off an upload that stops sending (idle timeout) and one that takes too long (request timeout) with 408', async () => {
    const vol = await makeVolume(t, {}, P1);
    const idle = slowUpload(P1, vol, 100, 0);
    const trickle = slowUpload(P1, vol, 1000, 500);
    const [a, b] = await Promise.all([idle.answer, trickle.answer]);
    idle.stop();
    trickle.stop();
    expect(a.status).toBe(408);
    expect(a.ms).toBeGreaterThanOrEqual(1900);
    expect(a.ms).toBeLessThan(5000);
    expect(JSON.parse(a.body).computeFault.message).toMatch(/no data for 2 seconds/);
    expect(b.status).toBe(408);
    expect(b.ms).toBeGreaterThanOrEqual(14900);
    expect(JSON.parse(b.body).computeFault.message).toMatch(/longer than 15 seconds/);
    // The slots are free again: a normal upload goes through.
    const ok = await t.req('PUT', `/v3/${P1}/volumes/${vol}/data`, {
      body: Buffer.from('hello'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(ok.status).toBe(204);
  }, 40_000);
});
