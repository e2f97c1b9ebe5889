// The WebAssembly CRC-32 (hand-assembled, slicing by 8) against zlib's, and when crc32 loads the
// native one a host installs: once 1 MiB has been checksummed (loading zlib costs about as much).
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
  it('loads the native one once 1 MiB has been checksummed, then uses it for every input', () => {
    let loads = 0;
    let calls = 0;
    useNativeCrc32(() => {
      loads++;
      return (b, previous) => (calls++, zlib.crc32(b, previous));
    });
    const part = randomBytes(400_000);
    expect(crc32(part)).toBe(zlib.crc32(part));
    expect(crc32(part.subarray(7), crc32(part.subarray(0, 7)))).toBe(zlib.crc32(part));
    expect(loads).toBe(0);
    // 800,000 bytes so far: this call reaches 1 MiB and is the native one's first.
    expect(crc32(part)).toBe(zlib.crc32(part));
    expect(crc32(part.subarray(0, 10))).toBe(zlib.crc32(part.subarray(0, 10)));
    expect([loads, calls]).toEqual([1, 2]);
  });

  it('keeps to WebAssembly when the host has no native one', () => {
    useNativeCrc32(() => undefined);
    const bytes = new Uint8Array((1 << 20) + 3).fill(0x3c);
    expect(crc32(bytes)).toBe(zlib.crc32(bytes));
  });
});
