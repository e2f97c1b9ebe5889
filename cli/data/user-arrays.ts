// A user's own arrays as splits: --data x.npy|csv|json --labels y.*, a large .npy read in chunks, and a model file's data() export.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileError } from '../../runtime/file-errors.ts';
import { ChunkedRows } from '../../runtime/data/chunked-rows.ts';
import { arrayRows, elementDecoder, type RowReader } from '../../runtime/data/rows.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { readArray } from './arrays.ts';
import { NPY_ITEM_BYTES, readNpyHeader, type NpyHeader } from './npy.ts';
import { formatDims, sizeOf } from './numeric.ts';
import type { RawSplit } from './raw.ts';

/** Files above this size are streamed (read in chunks) without --stream: the float32 copy would take 4× int8's room. */
export const STREAM_ABOVE_BYTES = 512 << 20;

/** The first bytes of a file (an .npy header is at most 64 KiB for format 1, a few more for 2 and 3). */
function readHead(file: string, max: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw fileError('read', file, e);
  }
  try {
    const head = new Uint8Array(max);
    return head.subarray(0, readSync(fd, head, 0, max, 0));
  } finally {
    closeSync(fd);
  }
}

const NPY_DTYPES: Readonly<Record<string, string>> = { f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32', i8: 'int64', u8: 'uint64', b1: 'bool' };

/** An .npy file's samples read in chunks: row i is x[i] (all dimensions after the first). */
export function npyRows(file: string, limits?: { chunkBytes?: number; cacheBytes?: number }): { rows: ChunkedRows; header: NpyHeader; dtype: string } {
  const header = readNpyHeader(readHead(file, 1 << 17), file);
  if (header.fortranOrder) throw new KilnError(`${file} is stored in Fortran order; save it in C order (numpy: np.save(f, np.ascontiguousarray(a)))`);
  if (header.code === 'f2') throw new KilnError(`${file} holds float16 values, which Kiln does not stream; save it as float32 or leave out --stream`);
  if (header.shape.length === 0) throw new KilnError(`${file} holds a single number, not samples`);
  const element = elementDecoder(header.code);
  const width = sizeOf(header.shape.slice(1));
  const rows = new ChunkedRows(file, { offset: header.dataOffset, stride: width * NPY_ITEM_BYTES[header.code], count: header.shape[0], width, element }, limits);
  return { rows, header, dtype: NPY_DTYPES[header.code] };
}

/** Inputs from `xFile` and labels from `yFile` (.npy, .csv, .json); .npy inputs stream when asked or when large. */
export function readArraySplit(xFile: string, yFile: string | undefined, options: { stream?: boolean; flag?: string } = {}): RawSplit {
  const flag = options.flag ?? '--labels';
  if (yFile === undefined) throw new KilnError(`--data ${xFile} needs ${flag} <file> with one label (a class id or a row of targets) per sample`);
  const labels = readArray(yFile);
  const stream = path.extname(xFile).toLowerCase() === '.npy' && (options.stream || sizeOfFile(xFile) > STREAM_ABOVE_BYTES);
  let x: RowReader;
  let xShape: number[];
  let xDtype: string;
  if (stream) {
    const s = npyRows(xFile);
    [x, xShape, xDtype] = [s.rows, s.header.shape, s.dtype];
  } else {
    const a = readArray(xFile);
    if (a.shape.length === 0) throw new KilnError(`${xFile} holds a single number, not samples`);
    [x, xShape, xDtype] = [arrayRows(a.data, sizeOf(a.shape.slice(1))), a.shape, a.dtype];
  }
  if (labels.shape[0] !== xShape[0]) throw new KilnError(`${xFile} holds ${xShape[0]} samples (${xDtype}${formatDims(xShape)}) but ${yFile} holds ${labels.shape[0]} labels (${labels.dtype}${formatDims(labels.shape)})`);
  const yShape = labels.shape.slice(1);
  return { x, xShape: xShape.slice(1), xDtype, xName: xFile, y: arrayRows(labels.data, sizeOf(yShape)), yShape, yDtype: labels.dtype, yName: yFile, streamed: stream };
}

function sizeOfFile(file: string): number {
  try {
    return statSync(file).size;
  } catch (e) {
    throw fileError('read', file, e);
  }
}

/** Samples a model file's data() made in code: `count` rows each of x and y. */
export interface CodeSplit {
  x: Float32Array | Int32Array;
  y: Float32Array | Int32Array;
  count: number;
}

/** A split of data() as rows; its sample shape is the model's (only sizes can be checked). */
export function codeSplit(s: CodeSplit, name: string, what: string): RawSplit {
  if (!s || !Number.isInteger(s.count) || s.count < 1 || !ArrayBuffer.isView(s.x) || !ArrayBuffer.isView(s.y)) {
    throw new KilnError(`${name}: data().${what} must be { x, y, count } with typed arrays and a positive integer count`);
  }
  for (const [k, a] of [['x', s.x], ['y', s.y]] as const) {
    if (a.length % s.count !== 0) throw new KilnError(`${name}: data().${what}.${k} holds ${a.length} values, not a whole number of rows for count ${s.count}`);
  }
  const xw = s.x.length / s.count;
  const yw = s.y.length / s.count;
  const dtype = (a: Float32Array | Int32Array) => (a instanceof Int32Array ? 'int32' : 'float32');
  return { x: arrayRows(s.x, xw), xShape: [xw], xDtype: dtype(s.x), xName: `${name} data().${what}.x`, y: arrayRows(s.y, yw), yShape: s.y instanceof Int32Array && yw === 1 ? [] : [yw], yDtype: dtype(s.y), yName: `${name} data().${what}.y` };
}
