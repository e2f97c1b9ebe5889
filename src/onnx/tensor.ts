// TensorProto → typed array with its dims: raw_data (little-endian) or the typed repeated fields.
import type { DType, TypedArray } from '../ir/dtype.ts';
import { UnsupportedError } from '../ir/errors.ts';
import { decodeMessage, int64, onnx, OnnxFormatError, type Int64, type TensorProto } from './proto.ts';

/** ONNX TensorProto.DataType codes (onnx.proto). */
export const ONNX_DTYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
  17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1',
  24: 'FLOAT8E8M0', 25: 'UINT2', 26: 'INT2',
};

export const dtypeName = (code: number | null | undefined): string => ONNX_DTYPE_NAMES[code ?? 0] ?? `data type ${code}`;

/**
 * The Kiln dtype an ONNX element type becomes: FLOAT → float32, DOUBLE → float64, INT32 → int32,
 * and INT64 → int32 (Kiln has no 64-bit integers: values must fit in int32, which is checked
 * where values are known, i.e. for initializers, constants and fed inputs). Anything else is
 * unsupported (null). BOOL becomes int32 holding 0 or 1 (Kiln has no bool dtype). INT8, UINT8,
 * INT16 and UINT16 are widened to int32 (every value fits): results are exact as long as no
 * intermediate leaves the narrow type's range (Kiln does not wrap around as the narrow type would).
 * UINT32 and UINT64 are narrowed to int32 like INT64 (values must fit, checked where known).
 * FLOAT16 and BFLOAT16 are widened to float32 (every value is exact): arithmetic then runs in
 * float32, more precisely than the narrow type, and nothing rounds back to it.
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
    case onnx.TensorProto.DataType.INT8:
    case onnx.TensorProto.DataType.UINT8:
    case onnx.TensorProto.DataType.INT16:
    case onnx.TensorProto.DataType.UINT16:
    case onnx.TensorProto.DataType.UINT32:
    case onnx.TensorProto.DataType.UINT64:
      return 'int32';
    case onnx.TensorProto.DataType.FLOAT16:
    case onnx.TensorProto.DataType.BFLOAT16:
      return 'float32';
    default:
      return NARROW[code ?? 0] ? (NARROW[code ?? 0].float ? 'float32' : 'int32') : null;
  }
}

/**
 * Element types narrower than a byte or 8-bit floats, widened like the 16-bit ones: the 2- and
 * 4-bit integers (packed, low bits first) to int32, FLOAT8* / FLOAT4E2M1 / FLOAT8E8M0 to float32.
 * Kiln only reads them (a Cast to them would have to round or saturate, which it does not).
 */
const NARROW: Record<number, { bits: number; signed?: boolean; float?: (b: number) => number }> = {
  21: { bits: 4 }, // UINT4
  22: { bits: 4, signed: true }, // INT4
  25: { bits: 2 }, // UINT2
  26: { bits: 2, signed: true }, // INT2
  17: { bits: 8, float: (b) => minifloat(b, 4, 3, 7, 'fn') }, // FLOAT8E4M3FN
  18: { bits: 8, float: (b) => minifloat(b, 4, 3, 8, 'fnuz') }, // FLOAT8E4M3FNUZ
  19: { bits: 8, float: (b) => minifloat(b, 5, 2, 15, 'ieee') }, // FLOAT8E5M2
  20: { bits: 8, float: (b) => minifloat(b, 5, 2, 16, 'fnuz') }, // FLOAT8E5M2FNUZ
  23: { bits: 4, float: (b) => minifloat(b, 2, 1, 1, 'finite') }, // FLOAT4E2M1
  24: { bits: 8, float: (b) => (b === 0xff ? NaN : 2 ** (b - 127)) }, // FLOAT8E8M0
};

/** Whether Kiln carries this ONNX element type widened (8/16-bit and narrower types). */
export const isWidenedType = (code: number): boolean => (code >= 2 && code <= 5) || code === 10 || code === 16 || code in NARROW;

/**
 * A small float from its bits: 1 sign, `e` exponent and `m` mantissa bits. `ieee`: all-ones
 * exponent is ∞/NaN; `fn`: only all-ones exponent and mantissa is NaN; `fnuz`: the negative zero
 * pattern is NaN; `finite`: no specials.
 */
function minifloat(bits: number, e: number, m: number, bias: number, kind: 'ieee' | 'fn' | 'fnuz' | 'finite'): number {
  const signBit = 1 << (e + m);
  const sign = bits & signBit ? -1 : 1;
  const exp = (bits >> m) & ((1 << e) - 1);
  const frac = bits & ((1 << m) - 1);
  const maxExp = (1 << e) - 1;
  if (kind === 'fnuz' && bits === signBit) return NaN;
  if (kind === 'ieee' && exp === maxExp) return frac ? NaN : sign * Infinity;
  if (kind === 'fn' && exp === maxExp && frac === (1 << m) - 1) return NaN;
  if (exp === 0) return sign * frac * 2 ** (1 - bias - m);
  return sign * (1 + frac / (1 << m)) * 2 ** (exp - bias);
}

/** Decodes packed or 8-bit narrow elements from their bytes. */
function decodeNarrow(code: number, bytes: ArrayLike<number>, count: number): Int32Array | Float32Array {
  const { bits, signed, float } = NARROW[code];
  const mask = (1 << bits) - 1;
  const at = (i: number) => (bytes[Math.floor((i * bits) / 8)] >> ((i * bits) % 8)) & mask;
  if (float) return Float32Array.from({ length: count }, (_, i) => float(at(i)));
  return Int32Array.from({ length: count }, (_, i) => {
    const v = at(i);
    return signed && v & (1 << (bits - 1)) ? v - (1 << bits) : v;
  });
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

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/** An IEEE 754 half-precision value from its 16 bits. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A bfloat16 value from its 16 bits (the high half of a float32). */
export function bfloat16ToFloat(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (bits & 0xffff) << 16 >>> 0);
  return view.getFloat32(0);
}

/** Decodes a TensorProto's values (FLOAT, DOUBLE, the integers up to 64 bits, BOOL, FLOAT16 and BFLOAT16 only). */
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
  const raw = t.rawData;
  if (NARROW[code]) {
    const bytes: ArrayLike<number> = raw && raw.length > 0 ? raw : (t.int32Data ?? []);
    const need = Math.ceil((count * NARROW[code].bits) / 8);
    if (bytes.length !== need) throw new OnnxFormatError(`${what} '${name}': holds ${bytes.length} bytes, dims [${dims.join(', ')}] of ${dtypeName(code)} need ${need}`);
    return { name, onnxType: code, dims, data: decodeNarrow(code, bytes, count) };
  }
  const size = ELEMENT_BYTES[code];
  if (size === undefined || kilnDType(code) === null) throw new UnsupportedError(`${what} '${name}': element type ${dtypeName(code)} is not supported`);
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
      case 2:
        return { name, onnxType: code, dims, data: Int32Array.from({ length: count }, (_, i) => view.getUint8(i)) };
      case 3:
        return { name, onnxType: code, dims, data: Int32Array.from({ length: count }, (_, i) => view.getInt8(i)) };
      case 4:
        return { name, onnxType: code, dims, data: Int32Array.from({ length: count }, (_, i) => view.getUint16(i * 2, true)) };
      case 5:
        return { name, onnxType: code, dims, data: Int32Array.from({ length: count }, (_, i) => view.getInt16(i * 2, true)) };
      case 10:
        return { name, onnxType: code, dims, data: Float32Array.from({ length: count }, (_, i) => halfToFloat(view.getUint16(i * 2, true))) };
      case 16:
        return { name, onnxType: code, dims, data: Float32Array.from({ length: count }, (_, i) => bfloat16ToFloat(view.getUint16(i * 2, true))) };
      case 12:
        return { name, onnxType: code, dims, data: Array.from({ length: count }, (_, i) => view.getUint32(i * 4, true)) };
      case 13:
        return { name, onnxType: code, dims, data: Array.from({ length: count }, (_, i) => Number(view.getBigUint64(i * 8, true))) };
      default:
        return { name, onnxType: code, dims, data: Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true))) };
    }
  }
  const field: ArrayLike<unknown> =
    code === 1 ? (t.floatData ?? []) : code === 11 ? (t.doubleData ?? []) : code === 6 || code === 9 || code === 10 || code === 16 || (code >= 2 && code <= 5) ? (t.int32Data ?? []) : code === 12 || code === 13 ? (t.uint64Data ?? []) : (t.int64Data ?? []);
  if (field.length !== count) {
    throw new OnnxFormatError(`${what} '${name}': holds ${field.length} values, dims [${dims.join(', ')}] need ${count}`);
  }
  switch (code) {
    case 1:
      return { name, onnxType: code, dims, data: Float32Array.from(field as ArrayLike<number>) };
    case 11:
      return { name, onnxType: code, dims, data: Float64Array.from(field as ArrayLike<number>) };
    case 6:
    case 2:
    case 3:
    case 4:
    case 5:
      return { name, onnxType: code, dims, data: Int32Array.from(field as ArrayLike<number>) };
    case 9:
      return { name, onnxType: code, dims, data: Int32Array.from(field as ArrayLike<number>, (v) => (v ? 1 : 0)) };
    case 10:
      return { name, onnxType: code, dims, data: Float32Array.from(field as ArrayLike<number>, halfToFloat) };
    case 16:
      return { name, onnxType: code, dims, data: Float32Array.from(field as ArrayLike<number>, bfloat16ToFloat) };
    default:
      return { name, onnxType: code, dims, data: Array.from(field, (v) => int64(v as Int64)) };
  }
}

/** The values as the typed array of their Kiln dtype; int64 must fit in int32 (else UnsupportedError). */
export function toKilnArray(t: TensorValue, what = 'tensor'): { dtype: DType; data: TypedArray } {
  // A STRING-typed value holds interned ids (strings.ts), already int32.
  const dtype = t.onnxType === onnx.TensorProto.DataType.STRING && t.data instanceof Int32Array ? 'int32' : kilnDType(t.onnxType);
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
