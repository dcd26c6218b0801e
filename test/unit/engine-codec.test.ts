import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CodecError, compress, compressForStore, decompress, zeroObject } from '../../src/engine/codec.js';

const sample = Buffer.concat([Buffer.from('hello backup world\n'.repeat(2000)), randomBytes(5000), Buffer.alloc(7000)]);

describe('codec', () => {
  for (const c of ['zstd', 'zlib', 'none'] as const) {
    it(`round-trips ${c}`, () => {
      const stored = compress(sample, c);
      if (c !== 'none') expect(stored.length).toBeLessThan(sample.length);
      expect(decompress(stored, c, sample.length).equals(sample)).toBe(true);
    });
  }

  it('writes one zstd frame whose header carries the content size', () => {
    const frame = compress(sample, 'zstd');
    expect(frame.readUInt32LE(0)).toBe(0xfd2fb528); // zstd magic
    const fhd = frame[4]!;
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd >> 5) & 1;
    // Frame_Content_Size is present unless FCS flag is 0 and Single_Segment is 0 (RFC 8878 3.1.1.1.1).
    expect(fcsFlag !== 0 || singleSegment === 1).toBe(true);
    const windowBytes = singleSegment ? 0 : 1;
    const dictBytes = [0, 1, 2, 4][fhd & 3]!;
    const at = 5 + windowBytes + dictBytes;
    const size = fcsFlag === 2 ? frame.readUInt32LE(at) : fcsFlag === 1 ? frame.readUInt16LE(at) + 256 : Number(frame.readBigUInt64LE(at));
    expect(size).toBe(sample.length);
  });

  it('reads a "gzip"-named object as a zlib container, as Cinder writes it', () => {
    expect(decompress(deflateSync(sample, { level: 6 }), 'gzip', sample.length).equals(sample)).toBe(true);
  });

  it('reads a bz2 object written by Python', () => {
    const text = 'cinder bz2 chunk '.repeat(500);
    const bz = execFileSync('python3', ['-c', 'import bz2,sys; sys.stdout.buffer.write(bz2.compress(sys.stdin.buffer.read()))'], {
      input: text,
    });
    expect(decompress(bz, 'bz2', text.length).toString()).toBe(text);
    expect(decompress(bz, 'bzip2', text.length).toString()).toBe(text);
  });

  it('rejects corrupt input and a wrong decompressed length with a CodecError', () => {
    const z = compress(sample, 'zstd');
    expect(() => decompress(z.subarray(0, z.length - 10), 'zstd', sample.length)).toThrow(CodecError);
    expect(() => decompress(compress(sample, 'zlib'), 'zlib', sample.length - 1)).toThrow(CodecError);
    expect(() => decompress(sample, 'zlib', sample.length)).toThrow(CodecError);
    expect(() => decompress(sample, 'lz4', sample.length)).toThrow(/unknown compression/);
  });

  it('compressForStore: a transferable view at offset 0 of its own buffer, or null when not smaller', () => {
    for (const c of ['zstd', 'zlib'] as const) {
      const body = compressForStore(sample, c)!;
      expect(body.byteOffset).toBe(0);
      expect(body.length).toBeLessThan(sample.length);
      expect(decompress(body, c, sample.length).equals(sample)).toBe(true);
      expect(compressForStore(randomBytes(64 * 1024), c)).toBeNull();
    }
  });

  it('compressForStore into a caller buffer: a zstd frame at its start, or null when not smaller or out of room', () => {
    const into = new Uint8Array(sample.length + 16).fill(7);
    const body = compressForStore(sample, 'zstd', undefined, into.subarray(16))!;
    expect(body.buffer).toBe(into.buffer);
    expect(body.byteOffset).toBe(16);
    expect(decompress(body, 'zstd', sample.length).equals(sample)).toBe(true);
    expect(into.subarray(0, 16).every((b) => b === 7)).toBe(true); // nothing before it touched
    expect(compressForStore(randomBytes(4096), 'zstd', undefined, into)).toBeNull();
    expect(compressForStore(sample, 'zstd', undefined, into.subarray(0, 8))).toBeNull();
  });

  it('decodes zstd into a caller buffer, and names a wrong length as the allocating path does', () => {
    const frame = compress(sample, 'zstd');
    const into = new Uint8Array(sample.length + 100);
    const out = decompress(frame, 'zstd', sample.length, into);
    expect(out.buffer).toBe(into.buffer);
    expect(out.equals(sample)).toBe(true);
    expect(() => decompress(frame, 'zstd', sample.length - 1, into)).toThrow(
      `decompressed to ${sample.length} bytes, expected ${sample.length - 1}`,
    );
    expect(() => decompress(frame, 'zstd', sample.length + 1, into)).toThrow(
      `decompressed to ${sample.length} bytes, expected ${sample.length + 1}`,
    );
    expect(() => decompress(frame.subarray(0, 40), 'zstd', sample.length, into)).toThrow(CodecError);
  });

  it('stores a zero run as a tiny object that decodes to zeros', () => {
    const z = zeroObject(4 * 1024 * 1024, 'zstd');
    expect(z.body.length).toBeLessThan(1024);
    expect(decompress(z.body, z.compression, 4 * 1024 * 1024).equals(Buffer.alloc(4 * 1024 * 1024))).toBe(true);
    expect(z.md5).toBe('b5cfa9d6c8febd618f91ac2843d50a1c');
    expect(zeroObject(100, 'none').compression).toBe('none');
  });
});
