// The ONNX protobuf messages: decode, encode, verify and create for every message of onnx.proto,
// with the names and behaviour of the protobufjs code npm `onnx-proto` generated (which Kiln used
// before): Kiln's own codec (schema.ts: the tables; codec.ts: the generic code; wire.ts: the wire
// format) replaces it, so no dependency is installed for it.
import { KilnError } from '../ir/errors.ts';
import { create, decode, encode, enumObject, TYPES, verify } from './codec.ts';
import type { EnumName, FieldRow, MessageName, SCHEMA } from './schema.ts';

type Rows<M extends MessageName> = (typeof SCHEMA)[M][number];
/** 64-bit integers decode as numbers; encoding also takes protobufjs's Long-like { low, high }. */
type Scalars = { string: string; bytes: Uint8Array; int32: number; int64: number; uint64: number; float: number; double: number };
type One<T> = T extends keyof Scalars ? Scalars[T] : T extends EnumName ? number : T extends MessageName ? IMessage<T> : never;
type Value<R extends FieldRow> = R[3] extends 'many' | 'packed' ? One<R[2]>[] : One<R[2]>;
/** Present on every decoded message: scalars (their default when absent) and repeated fields; not sub-messages or oneof members. */
type Always<R extends FieldRow> = R[3] extends 'oneof' ? false : R[2] extends MessageName ? (R[3] extends 'one' ? false : true) : true;

/** A message as one builds it (protobufjs's IModelProto etc.): every field optional. */
export type IMessage<M extends MessageName> = { [R in Rows<M> as R[1]]?: Value<R> | null };
/** A decoded or created message (protobufjs's class types): only sub-messages and oneof members may be missing. */
export type Message<M extends MessageName> = { [R in Rows<M> as Always<R> extends true ? R[1] : never]: Value<R> } & {
  [R in Rows<M> as Always<R> extends true ? never : R[1]]?: Value<R> | null;
};

export interface MessageCodec<M extends MessageName> {
  /** A message with the given fields (copied shallowly, nulls left out) in front of the defaults. */
  create(properties?: IMessage<M>): Message<M>;
  /** Throws on truncated or corrupt bytes; see decodeMessage for an OnnxFormatError. */
  decode(bytes: Uint8Array): Message<M>;
  encode(message: IMessage<M>): { finish(): Uint8Array };
  /** Null when the object can be encoded as this message, else why not. */
  verify(message: unknown): string | null;
}

function codec<M extends MessageName>(name: M): MessageCodec<M> {
  const type = TYPES.get(name)!;
  return {
    create: (properties) => create(type, properties) as Message<M>,
    decode: (bytes) => decode(type, bytes) as Message<M>,
    encode: (message) => ({ finish: () => encode(type, message) }),
    verify: (message) => verify(type, message),
  };
}

/** The `onnx` namespace as protobufjs laid it out: onnx.ModelProto.decode, onnx.TensorProto.DataType.FLOAT, … */
export const onnx = {
  Version: enumObject('Version'),
  OperatorStatus: enumObject('OperatorStatus'),
  AttributeProto: { ...codec('AttributeProto'), AttributeType: enumObject('AttributeProto.AttributeType') },
  ValueInfoProto: codec('ValueInfoProto'),
  NodeProto: codec('NodeProto'),
  TrainingInfoProto: codec('TrainingInfoProto'),
  ModelProto: codec('ModelProto'),
  StringStringEntryProto: codec('StringStringEntryProto'),
  TensorAnnotation: codec('TensorAnnotation'),
  GraphProto: codec('GraphProto'),
  TensorProto: {
    ...codec('TensorProto'),
    DataType: enumObject('TensorProto.DataType'),
    DataLocation: enumObject('TensorProto.DataLocation'),
    Segment: codec('TensorProto.Segment'),
  },
  SparseTensorProto: codec('SparseTensorProto'),
  TensorShapeProto: { ...codec('TensorShapeProto'), Dimension: codec('TensorShapeProto.Dimension') },
  TypeProto: {
    ...codec('TypeProto'),
    Tensor: codec('TypeProto.Tensor'),
    Sequence: codec('TypeProto.Sequence'),
    Map: codec('TypeProto.Map'),
    Optional: codec('TypeProto.Optional'),
    SparseTensor: codec('TypeProto.SparseTensor'),
  },
  OperatorSetIdProto: codec('OperatorSetIdProto'),
  FunctionProto: codec('FunctionProto'),
};

export type ModelProto = Message<'ModelProto'>;
export type GraphProto = IMessage<'GraphProto'>;
export type NodeProto = IMessage<'NodeProto'>;
export type AttributeProto = IMessage<'AttributeProto'>;
export type TensorProto = IMessage<'TensorProto'>;
export type ValueInfoProto = IMessage<'ValueInfoProto'>;
export type DimensionProto = IMessage<'TensorShapeProto.Dimension'>;

/** A malformed ONNX file (truncated, corrupt, or not ONNX at all). */
export class OnnxFormatError extends KilnError {
  override name = 'OnnxFormatError';
}

/** A 64-bit integer: a number as decoded, or a Long-like object as protobufjs handed them over and still accepted. */
export type Int64 = number | { low: number; high: number; unsigned?: boolean; toNumber?: () => number } | null | undefined;

/** A protobuf 64-bit integer as a JS number (exact up to 2^53; beyond that, the nearest double). */
export function int64(v: Int64): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v.toNumber === 'function') return v.toNumber();
  const low = v.low >>> 0;
  return v.unsigned ? (v.high >>> 0) * 2 ** 32 + low : v.high * 2 ** 32 + low;
}

/** Decodes bytes with one message type, turning every decoder failure into an OnnxFormatError. */
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
