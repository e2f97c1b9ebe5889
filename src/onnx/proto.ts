// The ONNX protobuf schema, as code generated from the official onnx.proto (npm `onnx-proto`).
// No hand-written decoding: every message is read by protobufjs.
import onnxProto from 'onnx-proto';
import { KilnError } from '../ir/errors.ts';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** A malformed ONNX file (truncated, corrupt, or not ONNX at all). */
export class OnnxFormatError extends KilnError {
  override name = 'OnnxFormatError';
}

/** A 64-bit integer as protobufjs hands it over (a number, or a Long when `long` is installed). */
export type Int64 = number | { low: number; high: number; unsigned?: boolean; toNumber?: () => number } | null | undefined;

/** A protobuf 64-bit integer as a JS number (exact up to 2^53; beyond that, the nearest double). */
export function int64(v: Int64): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v.toNumber === 'function') return v.toNumber();
  const low = v.low >>> 0;
  return v.unsigned ? (v.high >>> 0) * 2 ** 32 + low : v.high * 2 ** 32 + low;
}

/** Decodes bytes with one generated message type, turning every decoder failure into an OnnxFormatError. */
export function decodeMessage<T>(what: string, bytes: Uint8Array, decode: (b: Uint8Array) => T): T {
  if (!(bytes instanceof Uint8Array)) throw new OnnxFormatError(`${what}: expected bytes (a Uint8Array), got ${typeof bytes}`);
  if (bytes.length === 0) throw new OnnxFormatError(`${what}: the file is empty`);
  try {
    return decode(bytes);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new OnnxFormatError(`${what}: not a valid ONNX protobuf (truncated or corrupt?): ${reason}`);
  }
}
