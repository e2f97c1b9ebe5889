// The WebAssembly CRC-32 (hand-assembled, slicing by 8) against zlib's, and when crc32 loads the
// native one a host installs: at its first call, once (never for an application that checks no file).
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32, openWasmCrc32, useNativeCrc32 } from '../../runtime/crc32.ts';

/** Deterministic pseudo-random bytes. */
function randomBytes(n: number, seed = 7): Uint8Array {
  return Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
}

afterEach(() => useNativeCrc32(undefined));

describe('the WebAssembly CRC-32', () => {
  const wasm = openWasmCrc32()!;

  it('matches zlib on every length from 0 to 40 and across its 64 KiB window', () => {
    const bytes = randomBytes(3 * 65536 + 20);
    for (let n = 0; n <= 40; n++) expect(wasm(bytes.subarray(0, n), 0), `length ${n}`).toBe(zlib.crc32(bytes.subarray(0, n)));
    for (const n of [65535, 65536, 65537, 65543, 2 * 65536 + 9, bytes.length]) expect(wasm(bytes.subarray(0, n), 0), `length ${n}`).toBe(zlib.crc32(bytes.subarray(0, n)));
    expect(wasm(new TextEncoder().encode('123456789'), 0)).toBe(0xcbf43926);
  });

  it('continues from a previous CRC, at any cut, and reads a shared WebAssembly memory', () => {
    const bytes = randomBytes(70_001, 3);
    for (const cut of [0, 1, 7, 8, 65536, 70_000]) {
      expect(wasm(bytes.subarray(cut), wasm(bytes.subarray(0, cut), 0))).toBe(zlib.crc32(bytes));
      expect(wasm(bytes.subarray(cut), zlib.crc32(bytes.subarray(0, cut)))).toBe(zlib.crc32(bytes));
    }
    const shared = new Uint8Array(new WebAssembly.Memory({ initial: 2, maximum: 2, shared: true }).buffer, 5, bytes.length);
    shared.set(bytes);
    expect(wasm(shared, 0)).toBe(zlib.crc32(bytes));
  });
});

describe('crc32 and the native CRC-32', () => {
  it('loads the native one at the first call, once, and uses it for every input', () => {
    let loads = 0;
    let calls = 0;
    useNativeCrc32(() => {
      loads++;
      return (b, previous) => (calls++, zlib.crc32(b, previous));
    });
    expect(loads).toBe(0);
    const small = randomBytes(100_000);
    expect(crc32(small)).toBe(zlib.crc32(small));
    expect(crc32(small.subarray(7), crc32(small.subarray(0, 7)))).toBe(zlib.crc32(small));
    expect([loads, calls]).toEqual([1, 3]);
  });

  it('keeps to WebAssembly when the host has no native one', () => {
    useNativeCrc32(() => undefined);
    const bytes = randomBytes(200_003, 11);
    expect(crc32(bytes)).toBe(zlib.crc32(bytes));
  });
});
