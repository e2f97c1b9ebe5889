// Tests for the binary weight-file format: round trips, layout, corruption handling, fuzzing, checkWeights.
import { describe, it, expect } from 'vitest';
import { trailerReference } from './checksum-reference.ts';
import { Rng } from '../../runtime/rng.ts';
import { WeightFileError, checkWeights, decodeWeights, encodeWeights } from '../../runtime/weights.ts';
import type { WeightTensor } from '../../runtime/weights.ts';

const MAGIC = [0x4b, 0x49, 0x4c, 0x4e, 0x57, 0x54, 0x53, 0x00];

function sample(): WeightTensor[] {
  return [
    { name: 'dense1.kernel', dtype: 'float32', shape: [3, 2], data: Float32Array.from([1.5, -2, 0, -0, Infinity, NaN]) },
    { name: 'dense1.bias', dtype: 'float64', shape: [3], data: Float64Array.from([Math.PI, -1e-310, Number.MAX_VALUE]) },
    { name: 'steps', dtype: 'int32', shape: [], data: Int32Array.from([-123456789]) },
    { name: 'empty', dtype: 'float32', shape: [0, 5], data: new Float32Array(0) },
    { name: 'odd', dtype: 'int32', shape: [1, 3], data: Int32Array.from([2 ** 31 - 1, -(2 ** 31), 7]) },
  ];
}

/** Recomputes the trailing checksum (of the file's version) so a deliberately edited file passes it. */
function reseal(bytes: Uint8Array): Uint8Array {
  const end = bytes.length - 4;
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  view.setUint32(end, trailerReference(view.getUint32(8, true), bytes.subarray(0, end)) ?? 0, true);
  return bytes;
}

/** Builds a file from a raw header (object or literal string) and data bytes, with a valid checksum. */
function craft(header: unknown, data: Uint8Array = new Uint8Array(0), version = 2): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const dataStart = Math.ceil((16 + json.length) / 8) * 8;
  const out = new Uint8Array(dataStart + data.length + 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, version, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(data, dataStart);
  return reseal(out);
}

/** Decodes `bytes`, asserting that it fails with a WeightFileError, and returns the message. */
function decodeFailure(bytes: Uint8Array | ArrayBuffer): string {
  try {
    decodeWeights(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(WeightFileError);
    return (err as Error).message;
  }
  throw new Error('expected decodeWeights to fail');
}

function entry(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'w', dtype: 'float32', shape: [2], offset: 0, byteLength: 8, ...over };
}

describe('encodeWeights / decodeWeights round trip', () => {
  it('preserves names, dtypes, shapes, and every bit of the data', () => {
    const tensors = sample();
    const meta = { model: 'mlp', epoch: 3, nested: { lr: 0.01, tags: ['a', 'b'] }, ok: true };
    const decoded = decodeWeights(encodeWeights(tensors, meta));
    expect(decoded.meta).toEqual(meta);
    expect(decoded.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(tensors.map((t) => [t.name, t.dtype, t.shape]));
    decoded.tensors.forEach((t, i) => {
      expect(t.data.constructor).toBe(tensors[i].data.constructor);
      expect(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).toEqual(
        new Uint8Array(tensors[i].data.buffer, tensors[i].data.byteOffset, tensors[i].data.byteLength),
      );
    });
    expect(Object.is(decoded.tensors[0].data[3], -0)).toBe(true);
    expect(decoded.tensors[0].data[5]).toBeNaN();
    expect(decoded.tensors[2].shape).toEqual([]);
    expect(decoded.tensors[2].data[0]).toBe(-123456789);
  });

  it('defaults to empty meta and handles zero tensors', () => {
    expect(decodeWeights(encodeWeights([]))).toEqual({ tensors: [], meta: {} });
    const one = decodeWeights(encodeWeights([sample()[1]]));
    expect(one.meta).toEqual({});
    expect(Array.from(one.tensors[0].data)).toEqual([Math.PI, -1e-310, Number.MAX_VALUE]);
  });

  it('writes the documented layout', () => {
    const bytes = encodeWeights(sample(), { a: 1 });
    const view = new DataView(bytes.buffer);
    expect(Array.from(bytes.subarray(0, 8))).toEqual(MAGIC);
    expect(view.getUint32(8, true)).toBe(2);
    const headerLength = view.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
    const dataStart = Math.ceil((16 + headerLength) / 8) * 8;
    expect(bytes.subarray(16 + headerLength, dataStart).every((b) => b === 0)).toBe(true);
    for (const e of header.tensors) expect(e.offset % 8).toBe(0);
    const k = header.tensors[0];
    expect(k).toEqual({ name: 'dense1.kernel', dtype: 'float32', shape: [3, 2], offset: 0, byteLength: 24 });
    expect(view.getFloat32(dataStart + k.offset, true)).toBe(1.5); // little-endian
    // Version 2's trailer: XXH32 of every byte before it.
    expect(view.getUint32(bytes.length - 4, true)).toBe(trailerReference(2, bytes.subarray(0, bytes.length - 4)));
  });

  it('accepts ArrayBuffers and unaligned views, and returns independent aligned copies', () => {
    const bytes = encodeWeights(sample());
    expect(decodeWeights(bytes.slice().buffer).tensors[1].data[0]).toBe(Math.PI);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const view = shifted.subarray(3);
    const decoded = decodeWeights(view);
    expect(decoded.tensors[1].data[0]).toBe(Math.PI);
    view.fill(0);
    expect(decoded.tensors[1].data[0]).toBe(Math.PI);
  });

  it('copies out of Node Buffers (whose slice() shares memory) at any byte offset', () => {
    const bytes = encodeWeights(sample());
    const pool = Buffer.alloc(bytes.length + 5);
    pool.set(bytes, 5);
    const buf = pool.subarray(5);
    const decoded = decodeWeights(buf);
    expect(Array.from(decoded.tensors[0].data.subarray(0, 3))).toEqual([1.5, -2, 0]);
    expect(decoded.tensors[0].data.byteOffset).toBe(0);
    pool.fill(0);
    expect(decoded.tensors[1].data[0]).toBe(Math.PI);
  });

  it('validates tensors when encoding', () => {
    const t = (over: Partial<WeightTensor>): WeightTensor[] => [{ ...sample()[0], ...over }];
    expect(() => encodeWeights(t({ shape: [4, 2] }))).toThrow(/data has 6 elements but shape \[4, 2\] needs 8/);
    expect(() => encodeWeights(t({ dtype: 'float64' }))).toThrow(/dtype float64 needs a Float64Array/);
    expect(() => encodeWeights(t({ shape: [-6] }))).toThrow(WeightFileError);
    expect(() => encodeWeights(t({ name: '' }))).toThrow(/non-empty/);
    expect(() => encodeWeights([sample()[0], sample()[0]])).toThrow(/duplicate tensor name "dense1.kernel"/);
    expect(() => encodeWeights([], { big: 1n } as unknown as Record<string, unknown>)).toThrow(/not JSON-serialisable/);
  });
});

describe('decodeWeights rejects bad files with WeightFileError', () => {
  const good = encodeWeights(sample(), { epoch: 1 });
  const data8 = new Uint8Array(8);

  it('too short', () => {
    expect(decodeFailure(new Uint8Array(0))).toMatch(/file too short: 0 bytes/);
    expect(decodeFailure(good.subarray(0, 12))).toMatch(/file too short/);
  });

  it('bad magic', () => {
    const bytes = good.slice();
    bytes[0] = 0x50;
    expect(decodeFailure(bytes)).toMatch(/bad magic: not a Kiln weight file/);
  });

  it('unsupported version', () => {
    for (const version of [0, 3]) expect(decodeFailure(craft({ tensors: [], meta: {} }, data8, version))).toMatch(new RegExp(`unsupported format version ${version} \\(this runtime reads versions 1 to 2\\)`));
  });

  it('version 1 files (a CRC-32 trailer) are still read, and checked with their own checksum', () => {
    const header = { tensors: [entry()], meta: { saved: 'by an earlier Kiln' } };
    const file = craft(header, new Uint8Array(new Float32Array([1.5, -2]).buffer), 1);
    const { tensors, meta } = decodeWeights(file);
    expect(Array.from(tensors[0].data)).toEqual([1.5, -2]);
    expect(meta).toEqual({ saved: 'by an earlier Kiln' });
    // A version 1 file sealed with version 2's checksum is corrupt, and the other way round.
    const crossed = file.slice();
    new DataView(crossed.buffer).setUint32(crossed.length - 4, trailerReference(2, crossed.subarray(0, crossed.length - 4))!, true);
    expect(decodeFailure(crossed)).toMatch(/checksum mismatch/);
    const v2 = craft(header, new Uint8Array(new Float32Array([1.5, -2]).buffer), 2);
    new DataView(v2.buffer).setUint32(v2.length - 4, trailerReference(1, v2.subarray(0, v2.length - 4))!, true);
    expect(decodeFailure(v2)).toMatch(/checksum mismatch/);
  });

  it('header length beyond the file', () => {
    const bytes = good.slice();
    new DataView(bytes.buffer).setUint32(12, 1_000_000, true);
    expect(decodeFailure(bytes)).toMatch(/header length 1000000 extends beyond the end/);
  });

  it('invalid JSON header', () => {
    expect(decodeFailure(craft('{"tensors": [', data8))).toMatch(/invalid JSON header/);
    expect(decodeFailure(craft('[1, 2]', data8))).toMatch(/expected a JSON object/);
  });

  it('malformed header entries', () => {
    const cases: [unknown, RegExp][] = [
      [{ tensors: {} }, /"tensors" must be an array/],
      [{ tensors: [], meta: [1] }, /"meta" must be a JSON object/],
      [{ tensors: [42] }, /tensor #0 is not an object/],
      [{ tensors: [entry({ name: '' })] }, /name must be a non-empty string/],
      [{ tensors: [entry({ shape: [-2] })] }, /dimensions must be non-negative integers, got \[-2\]/],
      [{ tensors: [entry({ shape: [1.5] })] }, /dimensions must be non-negative integers/],
      [{ tensors: [entry({ shape: '2' })] }, /shape must be an array/],
      [{ tensors: [entry({ shape: [1e5, 1e5] })] }, /needs 40000000000 bytes but the data section has only 8/],
      [{ tensors: [entry({ shape: [2 ** 40, 2 ** 40] })] }, /absurd number of elements/],
      [{ tensors: [entry({ dtype: 'float16' })] }, /unknown dtype "float16"/],
      [{ tensors: [entry({ dtype: 'constructor' })] }, /unknown dtype "constructor"/],
      [{ tensors: [entry({ byteLength: 4 })] }, /byteLength 4 does not match shape \[2\] of float32 \(8 bytes\)/],
      [{ tensors: [entry({ offset: 8 })] }, /bytes \[8, 16\) lie outside the 8-byte data section/],
      [{ tensors: [entry({ offset: -8 })] }, /offset must be a non-negative multiple of 8/],
      [{ tensors: [entry({ offset: 4, shape: [1], byteLength: 4 })] }, /offset must be a non-negative multiple of 8/],
      [{ tensors: [entry({ byteLength: '8' })] }, /byteLength must be a non-negative integer/],
      [{ tensors: [entry(), entry()] }, /duplicate tensor name "w"/],
      [{ tensors: [entry(), entry({ name: 'v', shape: [1], byteLength: 4 })] }, /tensors "w" and "v" overlap/],
    ];
    for (const [header, pattern] of cases) expect(decodeFailure(craft(header, data8))).toMatch(pattern);
  });

  it('accepts a hand-crafted valid file', () => {
    const data = new Uint8Array(new Float32Array([1, 2]).buffer);
    const decoded = decodeWeights(craft({ tensors: [entry()], meta: { x: 1 } }, data));
    expect(Array.from(decoded.tensors[0].data)).toEqual([1, 2]);
    expect(decoded.meta).toEqual({ x: 1 });
  });

  it('a flipped bit in the data section is a checksum mismatch', () => {
    const bytes = good.slice();
    bytes[bytes.length - 12] ^= 0x04;
    const stored = new DataView(bytes.buffer).getUint32(bytes.length - 4, true).toString(16).padStart(8, '0');
    const message = decodeFailure(bytes);
    expect(message).toMatch(/^checksum mismatch: file is corrupt \(expected 0x[0-9a-f]{8}, got 0x[0-9a-f]{8}\)$/);
    expect(message).toContain(`expected 0x${stored}`);
  });

  it('a truncated file is reported as truncated', () => {
    expect(decodeFailure(good.subarray(0, good.length - 20))).toMatch(/file is truncated or corrupt: .*describes at least \d+ bytes/);
    expect(decodeFailure(good.subarray(0, 40))).toMatch(/extends beyond the end|file too short/);
  });

  it('survives 500 random byte corruptions with only WeightFileErrors', () => {
    const rng = new Rng(2024);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const bytes = good.slice();
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) bytes[rng.int(bytes.length)] ^= 1 + rng.int(255);
      const message = decodeFailure(bytes); // a changed byte must never decode
      const kind = message.split(':')[0];
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
    }
    expect(outcomes.get('checksum mismatch') ?? 0).toBeGreaterThan(300);
  });

  it('survives 500 resealed header corruptions and random truncations with only WeightFileErrors', () => {
    const rng = new Rng(77);
    const headerEnd = 16 + new DataView(good.buffer).getUint32(12, true);
    let rejected = 0;
    for (let i = 0; i < 500; i++) {
      const bytes = good.slice();
      bytes[8 + rng.int(headerEnd - 8)] ^= 1 + rng.int(255);
      try {
        decodeWeights(reseal(bytes));
      } catch (err) {
        expect(err).toBeInstanceOf(WeightFileError);
        rejected++;
      }
      const cut = good.subarray(0, rng.int(good.length));
      expect(() => decodeWeights(cut)).toThrow(WeightFileError);
    }
    expect(rejected).toBeGreaterThan(400);
  });
});

describe('checkWeights', () => {
  const expected = [
    { name: 'dense1.kernel', dtype: 'float32' as const, shape: [784, 64] },
    { name: 'dense1.bias', dtype: 'float32' as const, shape: [64] },
  ];
  const t = (name: string, shape: number[], dtype: WeightTensor['dtype'] = 'float32'): WeightTensor => ({
    name,
    dtype,
    shape,
    data: new Float32Array(0),
  });

  it('accepts matching tensors in any order', () => {
    expect(() => checkWeights(expected, [t('dense1.bias', [64]), t('dense1.kernel', [784, 64])])).not.toThrow();
  });

  it('names missing, extra, and mismatched tensors', () => {
    const run = (tensors: WeightTensor[]): string => {
      try {
        checkWeights(expected, tensors);
      } catch (err) {
        expect(err).toBeInstanceOf(WeightFileError);
        return (err as Error).message;
      }
      throw new Error('expected checkWeights to throw');
    };
    expect(run([t('dense1.kernel', [784, 64])])).toMatch(/missing tensor "dense1.bias" \(expected float32 \[64\]\)/);
    expect(run([...expected.map((e) => t(e.name, e.shape)), t('dense2.kernel', [64, 10])])).toMatch(
      /unexpected tensor "dense2.kernel" \(float32 \[64, 10\]\)/,
    );
    expect(run([t('dense1.kernel', [64, 784]), t('dense1.bias', [64])])).toMatch(
      /tensor "dense1.kernel": expected shape \[784, 64\], got \[64, 784\]/,
    );
    expect(run([t('dense1.kernel', [784, 64]), t('dense1.bias', [64], 'float64')])).toMatch(
      /tensor "dense1.bias": expected dtype float32, got float64/,
    );
    const all = run([t('dense1.kernel', [784]), t('junk', [1])]);
    expect(all).toMatch(/missing tensor "dense1.bias"/);
    expect(all).toMatch(/unexpected tensor "junk"/);
    expect(all).toMatch(/expected shape \[784, 64\], got \[784\]/);
  });
});
