import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';
import { blockDigest } from '../src/engine/block-digest.js';
import { compressForStore, decompress } from '../src/engine/codec.js';

/**
 * One worker of the machine-limit measurement: claims chunk indices from a shared counter,
 * reads each chunk of the file into ONE reused buffer (page cache warm) and runs the stage
 * being measured on it, compressing into one reused buffer too (the first touch of fresh memory
 * costs about as much as zstd itself on this machine type). Blocks are hashed as the engine
 * hashes them (an all-zero block by a compare). Reports bytes in and out, and the seconds spent
 * in the measured work (`restore` compresses each chunk first, outside that time).
 */
export interface LimitTask {
  file: string;
  sizeBytes: number;
  chunkSize: number;
  blockSize: number;
  /**
   * `format`: all the CPU work Cinder's format asks per chunk (sha256 per block, md5 of the chunk, zstd);
   * `restore`: what a restore does per stored chunk (zstd decompress, sha256 per block to verify).
   */
  op: 'read' | 'sha256' | 'zstd' | 'zlib' | 'sha256+zstd' | 'format' | 'restore';
  zstdLevel: number;
  zlibLevel: number;
  counter: SharedArrayBuffer;
}

export interface LimitResult {
  bytesIn: number;
  bytesOut: number;
  busySeconds: number;
}

function hashBlocks(chunk: Buffer, blockSize: number): void {
  for (let o = 0; o < chunk.length; o += blockSize) blockDigest(chunk.subarray(o, Math.min(chunk.length, o + blockSize)));
}

function run(task: LimitTask): LimitResult {
  const counter = new Int32Array(task.counter);
  const buf = Buffer.allocUnsafe(task.chunkSize);
  const out = new Uint8Array(task.chunkSize + 1);
  const decoded = new Uint8Array(task.chunkSize + 1);
  const fd = openSync(task.file, 'r');
  let bytesIn = 0;
  let bytesOut = 0;
  let busyMs = 0;
  try {
    for (;;) {
      const idx = Atomics.add(counter, 0, 1);
      const offset = idx * task.chunkSize;
      if (offset >= task.sizeBytes) break;
      const n = readSync(fd, buf, 0, Math.min(task.chunkSize, task.sizeBytes - offset), offset);
      const chunk = buf.subarray(0, n);
      bytesIn += n;
      if (task.op === 'restore') {
        const stored = compressForStore(chunk, 'zstd', task.zstdLevel, out);
        const t0 = performance.now();
        hashBlocks(stored ? decompress(stored, 'zstd', n, decoded) : chunk, task.blockSize);
        busyMs += performance.now() - t0;
        bytesOut += stored?.length ?? n;
        continue;
      }
      const t0 = performance.now();
      if (task.op === 'sha256' || task.op === 'sha256+zstd' || task.op === 'format') hashBlocks(chunk, task.blockSize);
      if (task.op === 'format') createHash('md5').update(chunk).digest();
      if (task.op === 'zstd' || task.op === 'sha256+zstd' || task.op === 'format')
        bytesOut += compressForStore(chunk, 'zstd', task.zstdLevel, out)?.length ?? n;
      else if (task.op === 'zlib') bytesOut += deflateSync(chunk, { level: task.zlibLevel }).length;
      busyMs += performance.now() - t0;
    }
  } finally {
    closeSync(fd);
  }
  return { bytesIn, bytesOut, busySeconds: busyMs / 1000 };
}

if (parentPort) parentPort.postMessage(run(workerData as LimitTask));
