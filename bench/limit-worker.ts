import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';
import { compressForStore } from '../src/engine/codec.js';

/**
 * One worker of the machine-limit measurement: claims chunk indices from a shared counter,
 * reads each chunk of the file into ONE reused buffer (page cache warm) and runs the stage
 * being measured on it, compressing into one reused buffer too (the first touch of fresh memory
 * costs about as much as zstd itself on this machine type). Reports bytes in and out.
 */
export interface LimitTask {
  file: string;
  sizeBytes: number;
  chunkSize: number;
  blockSize: number;
  /** `format`: all the CPU work Cinder's format asks per chunk (sha256 per block, md5 of the chunk, zstd). */
  op: 'read' | 'sha256' | 'zstd' | 'zlib' | 'sha256+zstd' | 'format';
  zstdLevel: number;
  zlibLevel: number;
  counter: SharedArrayBuffer;
}

function run(task: LimitTask): { bytesIn: number; bytesOut: number } {
  const counter = new Int32Array(task.counter);
  const buf = Buffer.allocUnsafe(task.chunkSize);
  const out = new Uint8Array(task.chunkSize);
  const fd = openSync(task.file, 'r');
  let bytesIn = 0;
  let bytesOut = 0;
  try {
    for (;;) {
      const idx = Atomics.add(counter, 0, 1);
      const offset = idx * task.chunkSize;
      if (offset >= task.sizeBytes) break;
      const n = readSync(fd, buf, 0, Math.min(task.chunkSize, task.sizeBytes - offset), offset);
      const chunk = buf.subarray(0, n);
      bytesIn += n;
      if (task.op === 'sha256' || task.op === 'sha256+zstd' || task.op === 'format') {
        for (let o = 0; o < n; o += task.blockSize) {
          createHash('sha256')
            .update(chunk.subarray(o, Math.min(n, o + task.blockSize)))
            .digest();
        }
      }
      if (task.op === 'format') createHash('md5').update(chunk).digest();
      if (task.op === 'zstd' || task.op === 'sha256+zstd' || task.op === 'format')
        bytesOut += compressForStore(chunk, 'zstd', task.zstdLevel, out)?.length ?? n;
      else if (task.op === 'zlib') bytesOut += deflateSync(chunk, { level: task.zlibLevel }).length;
    }
  } finally {
    closeSync(fd);
  }
  return { bytesIn, bytesOut };
}

if (parentPort) parentPort.postMessage(run(workerData as LimitTask));
