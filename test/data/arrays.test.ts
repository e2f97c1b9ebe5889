// readArray/writeArray (cli/data/arrays.ts): .npy through npyjs, CSV with and without a header, JSON nested arrays, clear errors, round trips.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readArray, writeArray } from '../../cli/data/arrays.ts';
import { f64Bytes, i64Bytes, npyFile, put, tempDir } from './files.ts';

describe('readArray', () => {
  const dir = tempDir('arrays');

  it('reads a float64 .npy as float32 values with its shape and dtype', () => {
    const file = put(dir, 'x.npy', npyFile('<f8', [2, 3], f64Bytes([1.5, -2, 3, 0.25, 5, 6])));
    const a = readArray(file);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe('float64');
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(Array.from(a.data)).toEqual([1.5, -2, 3, 0.25, 5, 6]);
  });

  it('reads int64 class ids as Int32Array', () => {
    const a = readArray(put(dir, 'y.npy', npyFile('<i8', [4], i64Bytes([3, 0, 9, 1]))));
    expect(a).toMatchObject({ shape: [4], dtype: 'int64' });
    expect(a.data).toBeInstanceOf(Int32Array);
    expect(Array.from(a.data)).toEqual([3, 0, 9, 1]);
  });

  it('reads uint8 images', () => {
    const a = readArray(put(dir, 'u.npy', npyFile('|u1', [1, 2, 2], Uint8Array.from([0, 255, 128, 7]))));
    expect(a).toMatchObject({ shape: [1, 2, 2], dtype: 'uint8' });
    expect(Array.from(a.data)).toEqual([0, 255, 128, 7]);
  });

  it('rejects Fortran order, big-endian and non-numeric .npy files with the file name', () => {
    expect(() => readArray(put(dir, 'f.npy', npyFile('<f8', [2, 2], f64Bytes([1, 2, 3, 4]), true)))).toThrow(/f\.npy is stored in Fortran order/);
    expect(() => readArray(put(dir, 'b.npy', npyFile('>f8', [1], f64Bytes([1]))))).toThrow(/b\.npy holds big-endian float64/);
    expect(() => readArray(put(dir, 's.npy', npyFile('<U3', [1], new Uint8Array(12))))).toThrow(/s\.npy holds <U3 values/);
    expect(() => readArray(put(dir, 'n.npy', 'hello'))).toThrow(/n\.npy is not a NumPy \.npy file/);
    expect(() => readArray(put(dir, 't.npy', npyFile('<f8', [3], f64Bytes([1]))))).toThrow(/float64\[3\] needs .* bytes/);
  });

  it('reads CSV with a header row, without one, and a single column as a list', () => {
    const a = readArray(put(dir, 'h.csv', 'a,b,c\n1,2.5,3\n4,5,6\n'));
    expect(a).toMatchObject({ shape: [2, 3], dtype: 'float64' });
    expect(Array.from(a.data)).toEqual([1, 2.5, 3, 4, 5, 6]);
    const b = readArray(put(dir, 'n.csv', '1,2\n3,4\n\n'));
    expect(b).toMatchObject({ shape: [2, 2], dtype: 'int32' });
    expect(b.data).toBeInstanceOf(Int32Array);
    const c = readArray(put(dir, 'y.csv', 'label\n0\n2\n1\n'));
    expect(c).toMatchObject({ shape: [3], dtype: 'int32' });
    expect(Array.from(c.data)).toEqual([0, 2, 1]);
  });

  it('names the line and column of a bad CSV cell, and ragged rows', () => {
    expect(() => readArray(put(dir, 'bad.csv', 'a,b\n1,2\n3,x\n'))).toThrow(/bad\.csv line 3, column 2: "x" is not a number/);
    expect(() => readArray(put(dir, 'rag.csv', '1,2\n3\n'))).toThrow(/rag\.csv/);
  });

  it('reads JSON nested arrays and rejects ragged ones', () => {
    const a = readArray(put(dir, 'x.json', '[[[1,2],[3,4]],[[5,6],[7,8.5]]]'));
    expect(a).toMatchObject({ shape: [2, 2, 2], dtype: 'float64' });
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8.5]);
    expect(() => readArray(put(dir, 'r.json', '[[1,2],[3]]'))).toThrow(/r\.json: element \[1\] should be an array of 2/);
    expect(() => readArray(put(dir, 's.json', '[[1,"a"]]'))).toThrow(/s\.json: element \[0\]\[1\] is "a", expected a number/);
  });

  it('names a missing file and an unknown extension', () => {
    expect(() => readArray(path.join(dir, 'missing.npy'))).toThrow(/cannot read .*missing\.npy: no such file/);
    expect(() => readArray(put(dir, 'x.txt', '1'))).toThrow(/x\.txt: unknown array file type '\.txt' \(expected \.npy, \.csv or \.json\)/);
  });
});

describe('writeArray', () => {
  const dir = tempDir('write');
  const data = Float32Array.from([0.1, -2, 3.25, 1e-7, 5, 6]);

  it('round-trips float32 and int32 through .npy, .csv and .json', () => {
    for (const ext of ['npy', 'csv', 'json']) {
      const file = path.join(dir, `a.${ext}`);
      writeArray(file, data, [2, 3]);
      const back = readArray(file);
      expect(back.shape).toEqual([2, 3]);
      expect(Array.from(back.data)).toEqual(Array.from(data));
      writeArray(file, Int32Array.from([4, 5, 6]), [3]);
      expect(Array.from(readArray(file).data)).toEqual([4, 5, 6]);
    }
  });

  it('writes .npy as NumPy does: <f4 with the shape in the header', () => {
    const file = path.join(dir, 'h.npy');
    writeArray(file, data, [2, 3]);
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    expect(bytes.toString('latin1')).toMatch(/'descr': ?'<f4'.*'shape': ?\(2, ?3\)/);
    expect(bytes.readFloatLE(bytes.length - 4)).toBe(6);
  });

  it('writes readable CSV, one sample per line', () => {
    const file = path.join(dir, 'r.csv');
    writeArray(file, data, [2, 3]);
    expect(readFileSync(file, 'utf8')).toBe('0.1,-2,3.25\n1e-7,5,6\n');
  });

  it('refuses a shape that does not match the data', () => {
    expect(() => writeArray(path.join(dir, 'z.npy'), data, [4])).toThrow(/shape \[4\] holds 4 values, got 6/);
  });
});
