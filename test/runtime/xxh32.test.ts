// XXH32, the checksum of weight files from format version 2 (runtime/xxh32.ts): the digests the
// xxHash project's users publish, a reference written from the specification, every way of
// cutting the data into pieces, the WebAssembly SIMD stripes against the JavaScript ones, and
// arrays of a model's memory read in place.
import { describe, expect, it } from 'vitest';
import { SimdMemory } from '../../runtime/simd.ts';
import { memoryOf } from '../../runtime/wasm-memories.ts';
import { openWasmStripes, stripesJs, xxh32, xxh32Stream } from '../../runtime/xxh32.ts';
import { xxh32Reference } from './checksum-reference.ts';

/** Deterministic pseudo-random bytes. */
function randomBytes(n: number, seed = 7): Uint8Array {
  return Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
}

const text = (s: string) => new TextEncoder().encode(s);

// Published XXH32 digests (seed 0): the short path (< 16 bytes), exactly one stripe, stripes with
// words and bytes after them.
const KNOWN: [string, number][] = [
  ['', 0x02cc5d05],
  ['a', 0x550d7456],
  ['abc', 0x32d153ff],
  ['abcd', 0xa3643705],
  ['abcdefghij', 0x8b988cfe],
  ['abcdefghijklmnop', 0x9d2d8b62],
  ['01234567890123456789012345678901', 0xfa57b070],
  ['Nobody inspects the spammish repetition', 0xe2293b2f],
  ['The quick brown fox jumps over the lazy dog', 0xe85ea4de],
];

describe('XXH32', () => {
  it('gives the published digests, as does the reference written from the specification', () => {
    for (const [s, digest] of KNOWN) {
      expect(xxh32(text(s)), s).toBe(digest);
      expect(xxh32Reference(text(s)), s).toBe(digest);
    }
  });

  it('agrees with the reference on every length from 0 to 100 and around its 64 KiB window', () => {
    const bytes = randomBytes(3 * 65536 + 40);
    for (let n = 0; n <= 100; n++) expect(xxh32(bytes.subarray(0, n)), `length ${n}`).toBe(xxh32Reference(bytes.subarray(0, n)));
    for (const n of [65535, 65536, 65537, 65552, 2 * 65536 + 9, bytes.length]) expect(xxh32(bytes.subarray(0, n)), `length ${n}`).toBe(xxh32Reference(bytes.subarray(0, n)));
  });

  it('gives the same digest however the data is cut into pieces', () => {
    const bytes = randomBytes(200_003, 5);
    const whole = xxh32Reference(bytes);
    // Every cut of the first 40 bytes in two, then pieces of sizes that straddle stripes and the window.
    for (let cut = 0; cut <= 40; cut++) {
      const h = xxh32Stream();
      h.update(bytes.subarray(0, cut));
      h.update(bytes.subarray(cut, 40));
      expect(h.digest(), `cut at ${cut}`).toBe(xxh32Reference(bytes.subarray(0, 40)));
    }
    for (const size of [1, 3, 15, 16, 17, 4096 + 5, 65536, 65537, 100_000]) {
      const h = xxh32Stream();
      for (let at = 0; at < bytes.length; at += size) h.update(bytes.subarray(at, at + size));
      expect(h.digest(), `pieces of ${size}`).toBe(whole);
    }
    // Empty pieces change nothing, and a digest may be asked for midway.
    const h = xxh32Stream();
    h.update(new Uint8Array(0));
    h.update(bytes.subarray(0, 1000));
    expect(h.digest()).toBe(xxh32Reference(bytes.subarray(0, 1000)));
    h.update(new Uint8Array(0));
    h.update(bytes.subarray(1000));
    expect(h.digest()).toBe(whole);
  });

  it('runs its stripes in WebAssembly SIMD as JavaScript does, reading a shared memory too', () => {
    const stripes = openWasmStripes();
    expect(stripes).toBeDefined();
    const bytes = randomBytes(5 * 65536 + 48, 11);
    // From arbitrary lanes (wrapping adds and multiplies), over stripes that cross the window.
    const [simd, js] = [Int32Array.of(1, -2, 0x7fffffff, -0x80000000), Int32Array.of(1, -2, 0x7fffffff, -0x80000000)];
    stripes!.run(simd, bytes, 32, bytes.length);
    stripesJs(js, bytes, 32, bytes.length);
    expect(Array.from(simd)).toEqual(Array.from(js));
    const shared = new Uint8Array(new WebAssembly.Memory({ initial: 6, maximum: 6, shared: true }).buffer, 3, bytes.length);
    shared.set(bytes);
    expect(xxh32(shared)).toBe(xxh32Reference(bytes));
  });
});

describe("XXH32 over its own window, in place", () => {
  it('hashes bytes read into its window where they lie, in pieces, as the reference does', () => {
    const h = xxh32Stream();
    const window = h.buffer();
    expect(window?.length).toBe(65536);
    expect(memoryOf(window!.buffer)).toBeDefined();
    // A file's bytes through the window as a reader takes them: full windows, then a tail that
    // leaves a stripe split; the window is overwritten each time, as it is there.
    const data = randomBytes(3 * 65536 + 23, 17);
    for (let at = 0; at < data.length; at += 65536) {
      const part = window!.subarray(0, Math.min(65536, data.length - at));
      part.set(data.subarray(at, at + part.length));
      h.update(part);
    }
    expect(h.digest()).toBe(xxh32Reference(data));
    // Pieces from odd offsets inside the window.
    for (const [from, n] of [[1, 100], [3, 4095], [7, 4096 + 33], [15, 65536 - 15]]) {
      const bytes = randomBytes(n, from);
      window!.set(bytes, from);
      expect(xxh32(window!.subarray(from, from + n)), `${n} bytes from ${from}`).toBe(xxh32Reference(bytes));
    }
  });
});

describe('XXH32 over a model memory, in place', () => {
  it('agrees with the reference at every length around its eight-stripe loop, at every start in a stripe', () => {
    // The WebAssembly loop takes 128 bytes an iteration and the rest one stripe at a time: every
    // count of whole stripes from 0 to 40 (five iterations and every remainder), from 16 offsets,
    // in place, against the JavaScript stripes (the stream runs so few bytes in JavaScript).
    const memory = new SimdMemory();
    const array = memory.alloc(Float32Array, 2048);
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    expect(memoryOf(bytes.buffer)).toBe(memory.memory);
    const data = randomBytes(bytes.length, 13);
    bytes.set(data);
    const stripes = openWasmStripes()!;
    for (let start = 0; start < 16; start++) {
      for (let stripesCount = 0; stripesCount <= 40; stripesCount++) {
        const [simd, js] = [Int32Array.of(start, -1, 7, 0x12345678), Int32Array.of(start, -1, 7, 0x12345678)];
        stripes.run(simd, bytes, start, start + 16 * stripesCount);
        stripesJs(js, data, start, start + 16 * stripesCount);
        expect(Array.from(simd), `${stripesCount} stripes from ${start}`).toEqual(Array.from(js));
      }
      // And whole digests through the stream, in place, past the lengths it leaves to JavaScript.
      for (const n of [4096, 4096 + 15, 4096 + 16 * 9 + 7, 8000 - start]) {
        expect(xxh32(bytes.subarray(start, start + n)), `${n} bytes from ${start}`).toBe(xxh32Reference(data.subarray(start, start + n)));
      }
    }
  });

  it("reads arrays of a SimdMemory where they lie, before and after the memory grows", () => {
    const memory = new SimdMemory();
    const early = memory.alloc(Float32Array, 300_001);
    // More than the memory's first 16 MiB: it grows, and later arrays have a newer buffer.
    const late = memory.alloc(Float32Array, 5_000_003);
    expect(late.buffer).not.toBe(early.buffer);
    for (const a of [early, late]) {
      a.set(Float32Array.from({ length: a.length }, (_, i) => Math.sin(i)));
      expect(memoryOf(a.buffer)).toBe(memory.memory);
      const bytes = new Uint8Array(a.buffer, a.byteOffset + 3, a.byteLength - 3);
      const copy = bytes.slice();
      expect(xxh32(bytes)).toBe(xxh32Reference(copy));
      // In pieces that leave stripes split between updates.
      const h = xxh32Stream();
      for (let at = 0; at < bytes.length; at += 100_003) h.update(bytes.subarray(at, at + 100_003));
      expect(h.digest()).toBe(xxh32Reference(copy));
    }
  });
});
