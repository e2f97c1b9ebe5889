// TensorProto → typed array with its dims: raw_data (little-endian) or the typed repeated fields.
import type { DType, TypedArray } from '../ir/dtype.ts';
import { UnsupportedError } from '../ir/errors.ts';
import { decodeMessage, int64, onnx, OnnxFormatError, type Int64, type TensorProto } from './proto.ts';

/** ONNX TensorProto.DataType codes (onnx.proto). */
export const ONNX_DTYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
  17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1',
};

export const dtypeName = (code: number | null | undefined): string => ONNX_DTYPE_NAMES[code ?? 0] ?? `data type ${code}`;

/**
 * The Kiln dtype an ONNX element type becomes: FLOAT → float32, DOUBLE → float64, INT32 → int32,
 * and INT64 → int32 (Kiln has no 64-bit integers: values must fit in int32, which is checked
 * where values are known, i.e. for initializers, constants and fed inputs). Anything else is
 * unsupported (null). BOOL becomes int32 holding 0 or 1 (Kiln has no bool dtype).
 */
export function kilnDType(code: number | null | undefined): DType | null {
  switch (code) {
    case onnx.TensorProto.DataType.FLOAT:
      return 'float32';
    case onnx.TensorProto.DataType.DOUBLE:
      return 'float64';
    case onnx.TensorProto.DataType.INT32:
    case onnx.TensorProto.DataType.INT64:
    case onnx.TensorProto.DataType.BOOL:
      return 'int32';
    default:
      return null;
  }
}

/** A decoded tensor: its ONNX element type, dims, and the values at full precision (int64 as doubles). */
export interface TensorValue {
  readonly name: string;
  /** ONNX element-type code. */
  readonly onnxType: number;
  readonly dims: number[];
  /** Row-major values; int64 values beyond 2^53 are rounded (they are only ever clamped or rejected). */
  readonly data: Float64Array | Float32Array | Int32Array | number[];
}

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 6: 4, 7: 8, 9: 1, 11: 8 };

/** Decodes a TensorProto's values (FLOAT, DOUBLE, INT32 and INT64 only). */
export function decodeTensor(t: TensorProto, what = 'tensor'): TensorValue {
  const name = t.name ?? '';
  const code = t.dataType ?? 0;
  const dims = (t.dims ?? []).map((d) => int64(d as Int64));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new OnnxFormatError(`${what} '${name}': invalid dims [${dims.join(', ')}]`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0) {
    throw new UnsupportedError(`${what} '${name}': external data is not supported`);
  }
  const count = dims.reduce((p, d) => p * d, 1);
  if (count > 2 ** 31 - 1) throw new UnsupportedError(`${what} '${name}': ${count} elements is too many`);
  const size = ELEMENT_BYTES[code];
  if (size === undefined || kilnDType(code) === null) throw new UnsupportedError(`${what} '${name}': element type ${dtypeName(code)} is not supported`);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== count * size) {
      throw new OnnxFormatError(`${what} '${name}': raw_data holds ${raw.length} bytes, dims [${dims.join(', ')}] of ${dtypeName(code)} need ${count * size}`);
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (code) {
      case 1:
        return { name, onnxType: code, dims, data: Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true)) };
      case 11:
        return { name, onnxType: code, dims, data: Float64Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true)) };
      case 6:
        return { name, onnxType: code, dims, data: Int32Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true)) };
      case 9:
        return { name, onnxType: code, dims, data: Int32Array.from({ length: count }, (_, i) => (view.getUint8(i) ? 1 : 0)) };
      default:
        return { name, onnxType: code, dims, data: Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true))) };
    }
  }
  const field: ArrayLike<unknown> =
    code === 1 ? (t.floatData ?? []) : code === 11 ? (t.doubleData ?? []) : code === 6 || code === 9 ? (t.int32Data ?? []) : (t.int64Data ?? []);
  if (field.length !== count) {
    throw new OnnxFormatError(`${what} '${name}': holds ${field.length} values, dims [${dims.join(', ')}] need ${count}`);
  }
  switch (code) {
    case 1:
      return { name, onnxType: code, dims, data: Float32Array.from(field as ArrayLike<number>) };
    case 11:
      return { name, onnxType: code, dims, data: Float64Array.from(field as ArrayLike<number>) };
    case 6:
      return { name, onnxType: code, dims, data: Int32Array.from(field as ArrayLike<number>) };
    case 9:
      return { name, onnxType: code, dims, data: Int32Array.from(field as ArrayLike<number>, (v) => (v ? 1 : 0)) };
    default:
      return { name, onnxType: code, dims, data: Array.from(field, (v) => int64(v as Int64)) };
  }
}

/** The values as the typed array of their Kiln dtype; int64 must fit in int32 (else UnsupportedError). */
export function toKilnArray(t: TensorValue, what = 'tensor'): { dtype: DType; data: TypedArray } {
  const dtype = kilnDType(t.onnxType);
  if (dtype === null) throw new UnsupportedError(`${what} '${t.name}': element type ${dtypeName(t.onnxType)} is not supported`);
  if (t.data instanceof Float32Array || t.data instanceof Float64Array || t.data instanceof Int32Array) return { dtype, data: t.data };
  if (dtype === 'float32') return { dtype, data: Float32Array.from(t.data) };
  if (dtype === 'float64') return { dtype, data: Float64Array.from(t.data) };
  const out = new Int32Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (!(v >= -(2 ** 31) && v <= 2 ** 31 - 1)) {
      throw new UnsupportedError(`${what} '${t.name}': int64 value ${v} does not fit in int32 (Kiln narrows int64 to int32)`);
    }
    out[i] = v;
  }
  return { dtype, data: out };
}

/** Decodes a serialized TensorProto (a `.pb` file of the ONNX test data). */
export function decodeTensorBytes(bytes: Uint8Array, what = 'tensor file'): TensorValue {
  const t = decodeMessage(what, bytes, (b) => onnx.TensorProto.decode(b));
  return decodeTensor(t, what);
}
