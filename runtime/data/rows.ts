// Rows of samples read one at a time (in-memory arrays, files, slices, concatenations) and the
// SampleSource built from input and label rows: browser-safe (the file reader is chunked-rows.ts).
import type { SampleSource } from '../sample-source.ts';
import type { Dataset } from '../train-loop.ts';

/** Rows of `width` numbers, `count` of them, read one at a time into a caller's array. */
export interface RowReader {
  readonly count: number;
  readonly width: number;
  /** Writes row `i` into `out` from `at`. */
  readRow(i: number, out: Float32Array | Int32Array, at: number): void;
}

/** Decodes `n` elements from `bytes` at `offset` into `out` at `at`. */
export type ElementDecoder = (bytes: Uint8Array, view: DataView, offset: number, out: Float32Array | Int32Array, at: number, n: number) => void;

/** Decoders of the element types data files hold, by NumPy code (`le`: little-endian; IDX files are big-endian). */
export function elementDecoder(code: string, littleEndian = true): { bytes: number; decode: ElementDecoder } {
  const le = littleEndian;
  const one = (bytes: number, get: (v: DataView, o: number) => number) => ({
    bytes,
    decode: ((_b, v, offset, out, at, n) => {
      for (let k = 0; k < n; k++) out[at + k] = get(v, offset + k * bytes);
    }) as ElementDecoder,
  });
  switch (code) {
    case 'u1': case 'b1': return { bytes: 1, decode: (b, _v, offset, out, at, n) => { for (let k = 0; k < n; k++) out[at + k] = b[offset + k]; } };
    case 'i1': return one(1, (v, o) => v.getInt8(o));
    case 'i2': return one(2, (v, o) => v.getInt16(o, le));
    case 'u2': return one(2, (v, o) => v.getUint16(o, le));
    case 'i4': return one(4, (v, o) => v.getInt32(o, le));
    case 'u4': return one(4, (v, o) => v.getUint32(o, le));
    case 'i8': return one(8, (v, o) => Number(v.getBigInt64(o, le)));
    case 'u8': return one(8, (v, o) => Number(v.getBigUint64(o, le)));
    case 'f4': return one(4, (v, o) => v.getFloat32(o, le));
    case 'f8': return one(8, (v, o) => v.getFloat64(o, le));
    default: throw new RangeError(`no streaming decoder for element type '${code}'`);
  }
}

/** Where rows lie in a file: `count` records of `stride` bytes from `offset`; each row is `width` elements `skip` bytes into its record. */
export interface RowLayout {
  readonly offset: number;
  readonly stride: number;
  readonly skip?: number;
  readonly count: number;
  readonly width: number;
  readonly element: { bytes: number; decode: ElementDecoder };
}

/** Rows of an in-memory array of any numeric type (uint8 images are converted row by row, not all at once). */
export function arrayRows(data: ArrayLike<number>, width: number): RowReader {
  return {
    count: width === 0 ? 0 : data.length / width,
    width,
    readRow(i, out, at) {
      const from = i * width;
      for (let k = 0; k < width; k++) out[at + k] = data[from + k];
    },
  };
}

/** Several readers of one width end to end (CIFAR's five training files as one). */
export function concatRows(parts: readonly RowReader[]): RowReader {
  const starts: number[] = [];
  let count = 0;
  for (const p of parts) {
    starts.push(count);
    count += p.count;
  }
  return {
    count,
    width: parts[0]?.width ?? 0,
    readRow(i, out, at) {
      let k = parts.length - 1;
      while (k > 0 && starts[k] > i) k--;
      parts[k].readRow(i - starts[k], out, at);
    },
  };
}

/** Rows `start .. start + count` of a reader (a validation split at its end). */
export function sliceRows(rows: RowReader, start: number, count: number): RowReader {
  return { count, width: rows.width, readRow: (i, out, at) => rows.readRow(start + i, out, at) };
}

/** A row transform applied in place after reading (scaling, normalising, a layout change). */
export type RowTransform = (row: Float32Array) => void;

/**
 * Inputs and labels from row readers as a SampleSource; `transform` changes each input row in
 * place, `oneHot` (a class count) turns label ids into one-hot rows of that width, `classIds`
 * says the labels are class ids read as int32 (the sparse loss's).
 */
export function rowsSource(x: RowReader, y: RowReader, options: { transform?: RowTransform; oneHot?: number; classIds?: boolean } = {}): SampleSource {
  if (x.count !== y.count) throw new RangeError(`${x.count} input rows but ${y.count} label rows`);
  const { transform, oneHot } = options;
  const id = new Int32Array(1);
  return {
    count: x.count,
    labels: oneHot === undefined && options.classIds ? 'int32' : 'float32',
    read(indices, bx, by) {
      for (let j = 0; j < indices.length; j++) {
        x.readRow(indices[j], bx, j * x.width);
        if (transform) {
          if (!(bx instanceof Float32Array)) throw new TypeError('rowsSource: a transform (scaling, normalising, a layout change) applies to float32 inputs; this batch is int32 (token ids)');
          transform(bx.subarray(j * x.width, (j + 1) * x.width));
        }
        if (oneHot === undefined) {
          y.readRow(indices[j], by, j * y.width);
          continue;
        }
        y.readRow(indices[j], id, 0);
        by.fill(0, j * oneHot, (j + 1) * oneHot);
        by[j * oneHot + id[0]] = 1;
      }
    },
  };
}

/** Reads all of `source` into memory (a validation or test set for evaluate); `inputs: 'int32'` for a model taking token ids. */
export function materialize(source: SampleSource, inputWidth: number, labelWidth: number, inputs: 'int32' | 'float32' = 'float32'): Dataset {
  const x = inputs === 'int32' ? new Int32Array(source.count * inputWidth) : new Float32Array(source.count * inputWidth);
  const y = source.labels === 'int32' ? new Int32Array(source.count * labelWidth) : new Float32Array(source.count * labelWidth);
  const step = 1024;
  for (let from = 0; from < source.count; from += step) {
    const n = Math.min(step, source.count - from);
    const indices = Int32Array.from({ length: n }, (_, k) => from + k);
    source.read(indices, x.subarray(from * inputWidth, (from + n) * inputWidth), y.subarray(from * labelWidth, (from + n) * labelWidth));
  }
  return { x, y, count: source.count };
}
