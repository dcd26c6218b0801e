import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';

/**
 * An HTTP/1.1 client for plain-HTTP GETs whose bodies land straight in the caller's memory.
 *
 * NOTE: Node's HTTP client reads each socket read into a fresh 64 KiB buffer and copies each
 * body piece into another; through moto that is ~0.2 s of main thread per GiB restored, and
 * tens of MiB of garbage that only a collection frees (the malloc heap it churns is never
 * given back). Here a socket reads into the buffer the caller names (`net`'s `onread`), so a
 * body read with readInto is written once, by the kernel, where it is wanted.
 *
 * It handles exactly what S3 servers send to a GET: a status line, headers and a body framed
 * by Content-Length (or ended by the connection closing). Anything else (a chunked body, a
 * 1xx, an oversized head) is reported as `unsupported` so the caller can send the request the
 * ordinary way; a GET is safe to repeat.
 */

/** Reads the body into `target` (at least as long as the rest of the body); see DirectBody. */
export const readInto: unique symbol = Symbol('readInto');

export interface DirectGet {
  host: string;
  port: number;
  /** Path and query string, already encoded. */
  path: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface DirectResponse {
  statusCode: number;
  reason: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: DirectBody;
}

/** Raised for a response this client does not frame; the caller should resend another way. */
export class UnsupportedResponse extends Error {}

const HEAD_LIMIT = 64 * 1024;
const COPY_CHUNK = 64 * 1024;
const IDLE_MS = 4_000;
const headEnd = Buffer.from('\r\n\r\n');

type ReadHandler = (n: number, buf: Uint8Array) => boolean;
/** How a read in progress learns that the connection ended: null for a clean end of stream. */
type EndHandler = (err: Error | null) => void;

interface ConnectionHooks {
  /** The connection closed, for whatever reason. */
  closed(c: Connection): void;
  /** A response was read to its end; `reusable` when the connection may serve another. */
  settled(c: Connection, reusable: boolean): void;
}

/** One keep-alive connection; it serves one response at a time. */
class Connection {
  readonly socket: Socket;
  /** Where the next socket read lands; set by whoever handles reads now. */
  private next: Uint8Array;
  private onRead: ReadHandler | null = null;
  private onEnd: EndHandler | null = null;
  private readonly head = Buffer.allocUnsafe(HEAD_LIMIT);
  /** Responses read to their end on this connection. */
  served = 0;
  /** Holds one of its agent's slots (from take to settle or close). */
  busy = false;
  closed = false;

  constructor(
    host: string,
    port: number,
    private readonly hooks: ConnectionHooks,
  ) {
    this.next = this.head;
    this.socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: () => this.next,
        callback: (n, buf) => this.delivered(n, buf),
      },
    });
    const end = (err: Error | null) => {
      if (this.closed) return;
      this.closed = true;
      this.socket.destroy();
      const cb = this.onEnd;
      this.onRead = this.onEnd = null;
      this.hooks.closed(this);
      cb?.(err);
    };
    this.socket
      .on('error', end)
      .on('close', () => end(null))
      .on('end', () => end(null));
    this.socket.on('timeout', () => end(Object.assign(new Error('socket timed out'), { name: 'TimeoutError', code: 'ETIMEDOUT' })));
  }

  /** A socket read of `n` bytes landed in `buf`; hands it to the current reader, in `next`. */
  private delivered(n: number, buf: Uint8Array): boolean {
    if (!this.onRead) return this.refuse('data on an idle connection');
    if (buf !== this.next) {
      // Node asks for the next buffer only after each read, so the first read after a new
      // reader takes over lands where the previous one pointed: move it where it belongs.
      if (n > this.next.length) return this.refuse('more bytes than the response announced');
      this.next.set(buf.subarray(0, n));
    }
    return this.onRead(n, this.next);
  }

  private refuse(why: string): boolean {
    this.socket.destroy(new Error(why));
    return false;
  }

  /** Routes reads to `onRead` (landing in `into`) and the connection's end to `onEnd`. */
  receive(into: Uint8Array, onRead: ReadHandler, onEnd: EndHandler): void {
    this.next = into;
    this.onRead = onRead;
    this.onEnd = onEnd;
    this.socket.resume();
  }

  /** Points the following read at `into` (called from inside onRead). */
  readNextInto(into: Uint8Array): void {
    this.next = into;
  }

  /** A response has been read to its end: back to idle. */
  settle(reusable: boolean): void {
    this.onRead = this.onEnd = null;
    this.next = this.head;
    this.served++;
    this.hooks.settled(this, reusable);
  }

  /** Sends the request and resolves with the response head (the body not yet read). */
  send(req: DirectGet): Promise<DirectResponse> {
    const lines = [`GET ${req.path} HTTP/1.1`];
    for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v}`);
    if (!Object.keys(req.headers).some((k) => k.toLowerCase() === 'host')) lines.push(`host: ${req.host}:${req.port}`);
    if (lines.some((l) => /[\r\n]/.test(l))) return Promise.reject(new Error('a request line or header holds a line break'));
    return new Promise((resolve, reject) => {
      let filled = 0;
      this.receive(
        this.head,
        (n) => {
          const searchFrom = Math.max(0, filled - 3);
          filled += n;
          const at = this.head.subarray(0, filled).indexOf(headEnd, searchFrom);
          if (at < 0) {
            if (filled < HEAD_LIMIT) {
              this.readNextInto(this.head.subarray(filled));
              return true;
            }
            this.onEnd = null;
            this.socket.destroy();
            reject(new UnsupportedResponse('response head over 64 KiB'));
            return false;
          }
          // The body waits in the kernel until its reader says where it goes; `early` is read
          // out of the head buffer before the socket resumes.
          this.socket.pause();
          this.next = this.head;
          this.onRead = this.onEnd = null;
          try {
            resolve(parseHead(this, this.head.subarray(0, at).toString('latin1'), this.head.subarray(at + 4, filled)));
          } catch (err) {
            this.socket.destroy();
            reject(err);
          }
          return false;
        },
        (err) => reject(err ?? Object.assign(new Error('connection closed before a response'), { code: 'ECONNRESET' })),
      );
      this.socket.setTimeout(req.timeoutMs);
      this.socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    });
  }
}

function parseHead(conn: Connection, head: string, early: Uint8Array): DirectResponse {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!status) throw new UnsupportedResponse('not an HTTP/1.x status line');
  const statusCode = Number(status[2]);
  if (statusCode < 200) throw new UnsupportedResponse(`status ${statusCode}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UnsupportedResponse('malformed header line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  if (headers['transfer-encoding'] !== undefined) throw new UnsupportedResponse('transfer-encoding');
  const connection = (headers.connection ?? '').toLowerCase();
  const keepAlive = status[1] === '1' ? connection !== 'close' : connection === 'keep-alive';
  let length: number | null = null;
  if (statusCode === 204 || statusCode === 304) length = 0;
  else if (headers['content-length'] !== undefined) {
    if (!/^\d{1,15}$/.test(headers['content-length'])) throw new UnsupportedResponse('content-length');
    length = Number(headers['content-length']);
  }
  if (length !== null && early.length > length) throw new UnsupportedResponse('more bytes than content-length');
  const body = new DirectBody(conn, length, early, keepAlive && length !== null);
  return { statusCode, reason: status[3] ?? '', headers, body };
}

const brokenOff = () => Object.assign(new Error('connection closed mid-body'), { code: 'ECONNRESET' });

/**
 * A response body. Read it either with readInto (the fast path: straight into the caller's
 * memory) or as an ordinary Readable (copies, for the SDK's error parsing and for streams).
 */
export class DirectBody extends Readable {
  /** Bytes still on the wire; null when the body ends with the connection. */
  private left: number | null;
  /** Body bytes that arrived with the head (a view of the connection's head buffer). */
  private early: Uint8Array;
  private mode: 'unread' | 'into' | 'copy' = 'unread';
  /** The connection is no longer this body's: settled, or destroyed. */
  private over = false;
  /** Why the body broke off, when it did. */
  failure: Error | undefined;

  constructor(
    private readonly conn: Connection,
    length: number | null,
    early: Uint8Array,
    private readonly reusable: boolean,
  ) {
    super();
    this.left = length === null ? null : length - early.length;
    this.early = early;
    if (length === 0) {
      this.settle();
      this.push(null);
    }
  }

  /** The whole body's length, when the response framed it. */
  get length(): number | null {
    return this.left === null ? null : this.left + this.early.length;
  }

  /**
   * Reads the whole body into the start of `target` and resolves with the byte count. A body
   * that breaks off resolves short, with `failure` set: the caller decides whether to resume.
   */
  [readInto](target: Uint8Array): Promise<number> {
    const total = this.length;
    if (this.mode !== 'unread') return Promise.reject(new Error('body already being read'));
    if (total === null || total > target.length) {
      return Promise.reject(new Error('readInto needs a body of known length that fits the target'));
    }
    this.mode = 'into';
    target.set(this.early, 0);
    let filled = this.early.length;
    this.early = new Uint8Array(0);
    if (filled === total) {
      this.settle();
      this.push(null);
      return Promise.resolve(filled);
    }
    return new Promise((resolve) => {
      this.conn.receive(
        target.subarray(filled, total),
        (n) => {
          filled += n;
          this.left = total - filled;
          if (filled < total) {
            this.conn.readNextInto(target.subarray(filled, total));
            return true;
          }
          this.settle();
          this.push(null);
          resolve(filled);
          return false;
        },
        (err) => {
          this.over = true;
          this.failure = err ?? brokenOff();
          resolve(filled);
        },
      );
    });
  }

  override _read(): void {
    if (this.over) return;
    if (this.mode === 'copy') {
      this.conn.socket.resume();
      return;
    }
    this.mode = 'copy';
    if (this.early.length > 0) {
      // A copy: the head buffer is the connection's, and the consumer may keep what it reads.
      this.push(Buffer.from(this.early));
      this.early = new Uint8Array(0);
      if (this.left === 0) {
        this.settle();
        this.push(null);
        return;
      }
    }
    this.conn.receive(
      this.copyBuffer(),
      (n, buf) => {
        if (this.left !== null) this.left -= n;
        const more = this.push(Buffer.from(buf.buffer, buf.byteOffset, n));
        if (this.left === 0) {
          this.settle();
          this.push(null);
          return false;
        }
        this.conn.readNextInto(this.copyBuffer());
        return more;
      },
      (err) => {
        this.over = true;
        if (err === null && this.left === null) this.push(null);
        else this.destroy(err ?? brokenOff());
      },
    );
  }

  private copyBuffer(): Buffer {
    return Buffer.allocUnsafe(this.left === null ? COPY_CHUNK : Math.min(COPY_CHUNK, this.left));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.over) {
      // Abandoned mid-body: the rest of it is still on the wire, so the connection cannot be reused.
      this.over = true;
      this.conn.socket.destroy();
    }
    cb(err);
  }

  private settle(): void {
    if (this.over) return;
    this.over = true;
    this.conn.settle(this.reusable);
  }
}

/** Keep-alive connections per origin, at most `maxSockets` of them busy at once. */
export class DirectHttpAgent {
  private readonly idle = new Map<string, Connection[]>();
  private busy = 0;
  private readonly waiting: (() => void)[] = [];
  private destroyed = false;

  constructor(private readonly maxSockets: number) {}

  /**
   * Sends a GET and resolves when the response head has arrived. A reused connection that the
   * server had already closed is retried once on a fresh one, as Node's agent does.
   */
  async get(req: DirectGet): Promise<DirectResponse> {
    const origin = `${req.host}:${req.port}`;
    for (let attempt = 0; ; attempt++) {
      if (this.destroyed) throw new Error('agent destroyed');
      await this.slot();
      const conn = this.take(origin, req, attempt > 0);
      try {
        return await this.sendAborting(conn, req);
      } catch (err) {
        this.retire(conn);
        const stale = attempt === 0 && conn.served > 0 && !(err instanceof UnsupportedResponse);
        if (!stale || req.signal?.aborted) throw err;
      }
    }
  }

  destroy(): void {
    this.destroyed = true;
    for (const list of this.idle.values()) for (const c of list) c.socket.destroy();
    this.idle.clear();
  }

  private async sendAborting(conn: Connection, req: DirectGet): Promise<DirectResponse> {
    const { signal } = req;
    if (!signal) return conn.send(req);
    if (signal.aborted) throw abortError();
    const onAbort = () => conn.socket.destroy(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await conn.send(req);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private take(origin: string, req: DirectGet, fresh: boolean): Connection {
    const list = this.idle.get(origin);
    let conn = fresh ? undefined : list?.pop();
    while (conn?.closed) conn = list?.pop();
    conn ??= new Connection(req.host, req.port, {
      closed: (c) => {
        this.forget(origin, c);
        this.retire(c);
      },
      settled: (c, reusable) => this.release(origin, c, reusable),
    });
    conn.busy = true;
    conn.socket.ref();
    return conn;
  }

  /** Gives back a connection's slot, once, and closes it. */
  private retire(conn: Connection): void {
    if (conn.busy) {
      conn.busy = false;
      this.free();
    }
    conn.socket.destroy();
  }

  private release(origin: string, conn: Connection, reusable: boolean): void {
    const list = this.idle.get(origin) ?? [];
    if (!reusable || this.destroyed || conn.closed || list.length >= this.maxSockets) {
      this.retire(conn);
      return;
    }
    conn.busy = false;
    this.free();
    conn.socket.setTimeout(IDLE_MS);
    conn.socket.unref();
    list.push(conn);
    this.idle.set(origin, list);
  }

  private forget(origin: string, conn: Connection): void {
    const list = this.idle.get(origin);
    const at = list?.indexOf(conn) ?? -1;
    if (list && at >= 0) list.splice(at, 1);
  }

  private async slot(): Promise<void> {
    if (this.busy < this.maxSockets) {
      this.busy++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  /** Hands a slot to the next waiter, or back to the pool. */
  private free(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy--;
  }
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}
