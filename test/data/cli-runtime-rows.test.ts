// The row readers a user's script gets from `kiln/runtime` and `kiln/runtime/node`: a raw float32
// file with a header read in chunks (ChunkedRows), labels from an array, sliced, made into a
// SampleSource with a transform and one-hot labels, and materialised: values against the formula
// the test wrote the file with.
import { describe, expect, it } from 'vitest';
import * as browserRuntime from '../../runtime/index.ts';
import { ChunkedRows, arrayRows, concatRows, elementDecoder, materialize, rowsSource, sliceRows } from '../../runtime/node.ts';
import { put, tempDir } from './files.ts';

const HEADER = 16;
const WIDTH = 3;
const ROWS = 50;
const value = (r: number, c: number) => r * 10 + c;

/** A file: 16 header bytes, then ROWS records of WIDTH little-endian float32 values. */
function rawFile(): string {
  const view = new DataView(new ArrayBuffer(HEADER + ROWS * WIDTH * 4));
  for (let r = 0; r < ROWS; r++) for (let c = 0; c < WIDTH; c++) view.setFloat32(HEADER + (r * WIDTH + c) * 4, value(r, c), true);
  return put(tempDir('rows'), 'x.f32', new Uint8Array(view.buffer));
}

describe('row readers from kiln/runtime and kiln/runtime/node', () => {
  it('the browser entry has the in-memory readers, not the file reader', () => {
    for (const name of ['arrayRows', 'concatRows', 'sliceRows', 'rowsSource', 'materialize', 'elementDecoder']) expect(typeof (browserRuntime as Record<string, unknown>)[name]).toBe('function');
    expect((browserRuntime as Record<string, unknown>).ChunkedRows).toBeUndefined();
  });

  it('ChunkedRows over a headed file, sliced, one-hot labels and a transform, materialised', () => {
    const x = new ChunkedRows(rawFile(), { offset: HEADER, stride: WIDTH * 4, count: ROWS, width: WIDTH, element: elementDecoder('f4') }, { chunkBytes: 64, cacheBytes: 128 });
    const labels = arrayRows(Int32Array.from({ length: ROWS }, (_, r) => r % 4), 1);
    const start = 40;
    const n = 10;
    const source = rowsSource(sliceRows(x, start, n), sliceRows(labels, start, n), { oneHot: 4, transform: (row) => row.forEach((v, i) => (row[i] = v / 2)) });
    const d = materialize(source, WIDTH, 4);
    x.close();
    expect(d.count).toBe(n);
    for (let k = 0; k < n; k++) {
      const r = start + k;
      expect(Array.from(d.x.subarray(k * WIDTH, (k + 1) * WIDTH))).toEqual([0, 1, 2].map((c) => value(r, c) / 2));
      expect(Array.from(d.y.subarray(k * 4, (k + 1) * 4))).toEqual([0, 1, 2, 3].map((c) => (c === r % 4 ? 1 : 0)));
    }
    // 10 rows of 12 bytes in chunks of 5 rows: more than one chunk was read.
    expect(x.bytesRead).toBeGreaterThanOrEqual(n * WIDTH * 4);
  });

  it('concatRows joins two readers end to end', () => {
    const joined = concatRows([arrayRows([1, 2, 3, 4], 2), arrayRows([5, 6], 2)]);
    const out = new Float32Array(2);
    joined.readRow(2, out, 0);
    expect(joined.count).toBe(3);
    expect(Array.from(out)).toEqual([5, 6]);
  });
});
