import { PassThrough, type Readable } from 'node:stream';
import { HttpFault } from './faults.js';

export interface BodyTimeouts {
  /** Longest pause between two chunks of the body. */
  idleMs: number;
  /** Longest time for the whole body. */
  totalMs: number;
}

/**
 * The request body, cut off with a 408 fault when the client pauses longer than `idleMs`
 * or takes longer than `totalMs` in all, so a client-paced stream cannot hold what the
 * handler holds (an upload slot, a file, a lock) for as long as it likes. On a cut-off the
 * request stream is detached, not destroyed, so the 408 can still be answered; the caller
 * should close the connection after it (the rest of the body is never read).
 */
export function withBodyTimeouts(src: Readable, t: BodyTimeouts): Readable {
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  let idle: NodeJS.Timeout | undefined;
  const cutOff = (why: string) => {
    src.unpipe(out);
    src.pause();
    out.destroy(new HttpFault(408, 'computeFault', `The request body was not received in time: ${why}.`));
  };
  const total = setTimeout(() => cutOff(`it took longer than ${t.totalMs / 1000} seconds`), t.totalMs);
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => cutOff(`no data for ${t.idleMs / 1000} seconds`), t.idleMs);
  };
  const onError = (err: Error) => out.destroy(err);
  const onClose = () => {
    if (!src.readableEnded) out.destroy(new Error('The client closed the connection before the body was complete.'));
  };
  arm();
  src.on('data', arm);
  src.on('error', onError);
  src.on('close', onClose);
  out.on('close', () => {
    clearTimeout(idle);
    clearTimeout(total);
    src.off('data', arm);
    src.off('error', onError);
    src.off('close', onClose);
    src.unpipe(out);
  });
  src.pipe(out);
  return out;
}
