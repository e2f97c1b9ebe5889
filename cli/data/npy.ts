// NumPy .npy files: whole reads through npyjs, the header alone (for the streaming reader), and writes.
import { dump, parse } from 'npyjs';
import { KilnError } from '../../src/ir/errors.ts';
import { formatDims, packNumbers, sizeOf, type NumericArray } from './numeric.ts';

/** NumPy's name of each element code npyjs reads; the ones Kiln accepts. */
const DTYPE_NAMES: Readonly<Record<string, string>> = {
  f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32', i8: 'int64', u8: 'uint64', b1: 'bool',
};

/** Bytes per element of each code (for the streaming reader's row size). */
export const NPY_ITEM_BYTES: Readonly<Record<string, number>> = { f2: 2, f4: 4, f8: 8, i1: 1, u1: 1, i2: 2, u2: 2, i4: 4, u4: 4, i8: 8, u8: 8, b1: 1 };

/** What an .npy header says: element code (`f4`, …), shape, layout and where the data starts. */
export interface NpyHeader {
  readonly code: string;
  readonly shape: number[];
  readonly fortranOrder: boolean;
  readonly dataOffset: number;
}

const MAGIC = '\x93NUMPY';

/** Reads the header of an .npy file from its first bytes (at least the whole header). */
export function readNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  if (bytes.length < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== MAGIC) throw new KilnError(`${file} is not a NumPy .npy file (it does not start with \\x93NUMPY)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const [start, length] = major <= 1 ? [10, view.getUint16(8, true)] : [12, view.getUint32(8, true)];
  if (bytes.length < start + length) throw new KilnError(`${file}: the .npy header is cut short (${bytes.length} bytes, the header needs ${start + length})`);
  const dict = new TextDecoder('latin1').decode(bytes.subarray(start, start + length));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(dict)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (descr === undefined || shapeText === undefined) throw new KilnError(`${file}: malformed .npy header ${JSON.stringify(dict.trim())}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const fortranOrder = /'fortran_order'\s*:\s*True/.test(dict);
  return { code: checkCode(descr, file), shape, fortranOrder, dataOffset: start + length };
}

/** The element code of a descr (`<f4` → `f4`), or a clear error for big-endian and non-numeric types. */
function checkCode(descr: string, file: string): string {
  const order = descr[0];
  const code = descr.slice(1);
  if (order === '>' && code.slice(1) !== '1') throw new KilnError(`${file} holds big-endian ${DTYPE_NAMES[code] ?? descr} values; save it little-endian (numpy: a.astype('<${code}'))`);
  if (!Object.hasOwn(DTYPE_NAMES, code)) throw new KilnError(`${file} holds ${descr} values; Kiln reads numeric .npy files (float16/32/64, int8-64, uint8-64, bool)`);
  return code;
}

/** Parses a whole .npy file (C order only) into float32 or int32 values. */
export function parseNpy(bytes: Uint8Array, file: string): NumericArray {
  const header = readNpyHeader(bytes, file);
  if (header.fortranOrder) throw new KilnError(`${file} is stored in Fortran order; save it in C order (numpy: np.save(f, np.ascontiguousarray(a)))`);
  const need = header.dataOffset + sizeOf(header.shape) * NPY_ITEM_BYTES[header.code];
  if (bytes.length < need) throw new KilnError(`${file}: ${DTYPE_NAMES[header.code]}${formatDims(header.shape)} needs ${need} bytes, the file has ${bytes.length}`);
  // npyjs views the buffer at the data offset: give it an own, aligned copy.
  const own = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + need) as ArrayBuffer;
  const parsed = parse(own);
  const values = parsed.data as unknown as ArrayLike<number | bigint | boolean>;
  const numbers = new Float64Array(sizeOf(header.shape));
  for (let i = 0; i < numbers.length; i++) numbers[i] = Number(values[i]);
  const integer = header.code !== 'f2' && header.code !== 'f4' && header.code !== 'f8';
  return { data: packNumbers(numbers, integer), shape: header.shape, dtype: DTYPE_NAMES[header.code] };
}

/** The bytes of an .npy file holding `data` with `shape` (float32 as <f4, int32 as <i4). */
export function npyBytes(data: Float32Array | Int32Array, shape: readonly number[]): Uint8Array {
  return new Uint8Array(dump(data, [...shape]));
}
