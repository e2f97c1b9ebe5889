// Tests for CRC-32 check values and the double-precision erf.
import zlib from 'node:zlib';
import { describe, it, expect } from 'vitest';
import { crc32, crc32Table } from '../../runtime/crc32.ts';
import '../../runtime/index-node.ts';
import { erf } from '../../runtime/math.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    expect(crc32(new Uint8Array([0]))).toBe(0xd202ef8d);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('continues across chunks', () => {
    const bytes = ascii('123456789');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(crc32(bytes.subarray(cut), crc32(bytes.subarray(0, cut)))).toBe(0xcbf43926);
      expect(crc32Table(bytes.subarray(cut), crc32Table(bytes.subarray(0, cut)))).toBe(0xcbf43926);
    }
  });

  it('agrees with zlib on long random buffers of every length mod 4 (the JavaScript tables, and the native one Node gets)', () => {
    let seed = 7;
    const bytes = Uint8Array.from({ length: 10_003 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    for (const n of [10_000, 10_001, 10_002, 10_003]) {
      expect(crc32Table(bytes.subarray(0, n))).toBe(zlib.crc32(bytes.subarray(0, n)));
      expect(crc32(bytes.subarray(0, n))).toBe(zlib.crc32(bytes.subarray(0, n)));
      expect(crc32(bytes.subarray(n - 7, n), crc32(bytes.subarray(0, n - 7)))).toBe(crc32Table(bytes.subarray(0, n)));
    }
  });

  it('detects a single flipped bit', () => {
    const bytes = ascii('123456789');
    bytes[4] ^= 0x10;
    expect(crc32(bytes)).not.toBe(0xcbf43926);
  });
});

describe('erf', () => {
  // Reference values (mpmath, 40 digits, rounded to double).
  const known: [number, number][] = [
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [3, 0.9999779095030014],
    [0.1, 0.1124629160182849],
    [1e-10, 1.1283791670955126e-10],
    [2.5, 0.999593047982555],
    [2.9999, 0.9999778955735178],
    [4, 0.9999999845827421],
    [5.5, 0.9999999999999927],
  ];

  it('matches known values to 1e-13', () => {
    for (const [x, y] of known) {
      expect(Math.abs(erf(x) - y)).toBeLessThan(1e-13 * Math.abs(y));
      expect(Math.abs(erf(-x) + y)).toBeLessThan(1e-13 * Math.abs(y));
    }
    expect(Math.abs(erf(-1) + 0.8427007929497149)).toBeLessThan(1e-13);
  });

  it('is odd and monotone on a fine grid', () => {
    let prev = -1;
    for (let x = -7; x <= 7; x += 1 / 128) {
      expect(erf(-x)).toBe(-erf(x));
      expect(erf(x)).toBeGreaterThanOrEqual(prev);
      prev = erf(x);
    }
  });

  it('handles zero, infinities, large arguments and NaN', () => {
    expect(erf(0)).toBe(0);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(10)).toBe(1);
    expect(erf(-30)).toBe(-1);
    expect(erf(Number.NaN)).toBeNaN();
  });
});
