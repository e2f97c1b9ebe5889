// Tests for the IDX parser (hand-built buffers and the real files) and the MNIST loader.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { IdxFormatError, parseIdx } from '../../runtime/idx.ts';
import { loadMnist, mnistDataDir } from '../../runtime/mnist.ts';

/** Builds an IDX file: magic 00 00 type ndims, big-endian dims, then the given data bytes. */
function idx(type: number, dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Big-endian bytes of `values` written with a DataView setter. */
function be(size: number, values: number[], set: (v: DataView, o: number, x: number) => void): number[] {
  const view = new DataView(new ArrayBuffer(size * values.length));
  values.forEach((x, i) => set(view, i * size, x));
  return Array.from(new Uint8Array(view.buffer));
}

describe('parseIdx on hand-built buffers', () => {
  it('parses ubyte with several dims', () => {
    const r = parseIdx(idx(0x08, [2, 3], [0, 1, 2, 253, 254, 255]));
    expect(r.dims).toEqual([2, 3]);
    expect(r.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(r.data)).toEqual([0, 1, 2, 253, 254, 255]);
  });

  it('parses every signed and floating type big-endian', () => {
    const byte = parseIdx(idx(0x09, [3], [0xff, 0x80, 0x7f]));
    expect(byte.data).toBeInstanceOf(Int8Array);
    expect(Array.from(byte.data)).toEqual([-1, -128, 127]);

    const short = parseIdx(idx(0x0b, [2], [0x01, 0x02, 0xff, 0xfe]));
    expect(short.data).toBeInstanceOf(Int16Array);
    expect(Array.from(short.data)).toEqual([0x0102, -2]);

    const ints = [1, -2, 2 ** 31 - 1, -(2 ** 31)];
    const int = parseIdx(idx(0x0c, [2, 2], be(4, ints, (v, o, x) => v.setInt32(o, x, false))));
    expect(int.data).toBeInstanceOf(Int32Array);
    expect(Array.from(int.data)).toEqual(ints);

    const floats = [1.5, -0.25, 3e38];
    const float = parseIdx(idx(0x0d, [3], be(4, floats, (v, o, x) => v.setFloat32(o, x, false))));
    expect(float.data).toBeInstanceOf(Float32Array);
    expect(Array.from(float.data)).toEqual(floats.map(Math.fround));

    const doubles = [Math.PI, -1e-300];
    const double = parseIdx(idx(0x0e, [1, 2], be(8, doubles, (v, o, x) => v.setFloat64(o, x, false))));
    expect(double.data).toBeInstanceOf(Float64Array);
    expect(Array.from(double.data)).toEqual(doubles);
  });

  it('works on an unaligned view and copies the data', () => {
    const file = idx(0x0c, [1], [0, 0, 1, 0]);
    const padded = new Uint8Array(file.length + 1);
    padded.set(file, 1);
    const r = parseIdx(padded.subarray(1));
    expect(Array.from(r.data)).toEqual([256]);
    padded.fill(0);
    expect(Array.from(r.data)).toEqual([256]);
  });

  it('copies ubyte data even from a Node Buffer', () => {
    const buf = Buffer.concat([Buffer.from([9, 9]), Buffer.from(idx(0x08, [3], [4, 5, 6]))]).subarray(2);
    const r = parseIdx(buf);
    expect(Buffer.isBuffer(r.data)).toBe(false);
    expect(Array.from(r.data)).toEqual([4, 5, 6]);
    buf.fill(0);
    expect(Array.from(r.data)).toEqual([4, 5, 6]);
  });

  it('reports bad magic, unknown types and wrong lengths', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]))).toThrow(/expected at least 4 header bytes, got 2/);
    expect(() => parseIdx(new Uint8Array([1, 0, 8, 0, 5]))).toThrow(/bad IDX magic: .*got 0x01 0x00/);
    expect(() => parseIdx(new Uint8Array([0, 0, 0x0a, 0]))).toThrow(/unknown IDX type code 0x0a/);
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 2, 0, 0, 0]))).toThrow(/2 dimensions need 12 bytes, got 7/);
    expect(() => parseIdx(idx(0x0c, [2, 3], new Array(20).fill(0)))).toThrow(/need 24 bytes, got 20/);
    expect(() => parseIdx(idx(0x08, [2], [1, 2, 3]))).toThrow(/need 2 bytes, got 3/);
    expect(() => parseIdx(idx(0x08, [2], [1]))).toThrow(IdxFormatError);
  });
});

describe('real MNIST files', () => {
  it('parse as IDX with the documented dimensions', () => {
    const dir = mnistDataDir();
    const labels = parseIdx(readFileSync(join(dir, 't10k-labels-idx1-ubyte')));
    expect(labels.dims).toEqual([10000]);
    expect(labels.data[0]).toBe(7);
    const images = parseIdx(readFileSync(join(dir, 't10k-images-idx3-ubyte')));
    expect(images.dims).toEqual([10000, 28, 28]);
    expect(images.data).toBeInstanceOf(Uint8Array);
  });

  it('loadMnist("test") gives 10000 scaled 28x28 images', () => {
    const test = loadMnist('test');
    expect(test.count).toBe(10000);
    expect(test.sampleShape).toEqual([1, 28, 28]);
    expect(test.images).toBeInstanceOf(Float32Array);
    expect(test.images.length).toBe(10000 * 784);
    expect(Array.from(test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    let min = Infinity;
    let max = -Infinity;
    for (const p of test.images) {
      min = Math.min(min, p);
      max = Math.max(max, p);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    const perClass = new Array<number>(10).fill(0);
    for (const l of test.labels) perClass[l]++;
    expect(perClass.every((c) => c > 800 && c < 1200)).toBe(true);
    const raw = readFileSync(join(mnistDataDir(), 't10k-images-idx3-ubyte'));
    for (const i of [0, 200, 783, 784 * 9999 + 400]) expect(test.images[i]).toBe(Math.fround(raw[16 + i] / 255));
  });

  it('loadMnist("train") gives 60000 examples starting with label 5', () => {
    const train = loadMnist('train');
    expect(train.count).toBe(60000);
    expect(train.images.length).toBe(60000 * 784);
    expect(train.labels.length).toBe(60000);
    expect(Array.from(train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
  });

  it('honours offset and limit', () => {
    const full = loadMnist('test', { limit: 10 });
    expect(full.count).toBe(10);
    const part = loadMnist('test', { offset: 3, limit: 4 });
    expect(part.count).toBe(4);
    expect(Array.from(part.labels)).toEqual(Array.from(full.labels.subarray(3, 7)));
    expect(part.images).toEqual(full.images.subarray(3 * 784, 7 * 784));
    expect(loadMnist('test', { offset: 9995, limit: 100 }).count).toBe(5);
    expect(loadMnist('test', { offset: 10000 }).count).toBe(0);
    expect(() => loadMnist('test', { offset: 10001 })).toThrow(RangeError);
    expect(() => loadMnist('test', { limit: -1 })).toThrow(RangeError);
    expect(() => loadMnist('valid' as 'test')).toThrow(/must be 'train' or 'test'/);
  });
});
