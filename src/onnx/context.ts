// What an ONNX op entry sees (its inputs, attributes, opset) and the helpers every entry uses.
import type { DType } from '../ir/dtype.ts';
import type { Graph } from '../ir/graph.ts';
import type { Node } from '../ir/node.ts';
import type { OpName } from '../ir/ops/index.ts';
import type { Dim } from '../ir/shape.ts';
import type { GraphProto } from './proto.ts';
import type { TensorValue } from './tensor.ts';

/** What an op entry sees: the node's inputs, attributes and the model's opset. */
export interface OnnxContext {
  readonly opType: string;
  /** The default-domain opset the model imports. */
  readonly opset: number;
  /** `node "name" (OpType, opset N)`, for messages. */
  readonly label: string;
  /** Number of inputs listed (including empty, i.e. omitted, ones). */
  readonly count: number;
  /** Whether input `i` is given (listed and not empty). */
  has(i: number): boolean;
  /** Input `i` as a node (required). */
  input(i: number): Node;
  /** Input `i`'s values when they are known at import time (initializer, Constant, Shape). */
  constant(i: number): TensorValue | undefined;
  /** Whether the node lists output `k` (named, so something may read it). */
  wantsOutput(k: number): boolean;
  /** Input `i`'s ONNX element type where the file states it (graph inputs, initializers, constants). */
  elemType(i: number): number | undefined;
  attr(name: string): unknown;
  /** Makes a node, with the ONNX node's name as its layer. */
  emit(op: OpName, inputs: readonly Node[], attrs?: Record<string, unknown>): Node;
  constNode(t: TensorValue): Node;
  /** String constants, interned into the model's dictionary (see strings.ts): a STRING-typed value of ids. */
  strings(dims: number[], values: readonly string[]): TensorValue;
  unsupported(why: string): never;
  /** A value of the enclosing graph by name (ONNX's outer scope, read by loop bodies), if it defines one. */
  outer?(name: string): Node | undefined;
  /** Imports a subgraph (a loop body) with the same importer, given its inputs' shapes. */
  importBody?(graph: GraphProto, inputShapes: Readonly<Record<string, readonly number[]>>, name: string): Graph;
}

/** An entry returns the node of each output in order (outputs beyond them are unsupported), or a known constant. */
export type OnnxOp = (c: OnnxContext) => Node | TensorValue | (Node | TensorValue)[];

// ---- attribute and input helpers ----
// The import checks each attribute's ONNX type against the op's schema (attr-types.ts); these
// helpers check the decoded value too, so an attribute missing from a schema is not ignored either.

const wrongType = (c: OnnxContext, name: string, want: string, v: unknown): never =>
  c.unsupported(`attribute ${JSON.stringify(name)} must be ${want}, found ${Array.isArray(v) ? 'a list' : typeof v}`);

export const int = (c: OnnxContext, name: string, def: number): number => {
  const v = c.attr(name);
  if (v === undefined) return def;
  return typeof v === 'number' && Number.isInteger(v) ? v : wrongType(c, name, 'INT', v);
};
export const float = (c: OnnxContext, name: string, def: number): number => {
  const v = c.attr(name);
  if (v === undefined) return def;
  return typeof v === 'number' ? v : wrongType(c, name, 'FLOAT', v);
};
export const ints = (c: OnnxContext, name: string): number[] | undefined => {
  const v = c.attr(name);
  if (v === undefined) return undefined;
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x)) ? (v as number[]) : wrongType(c, name, 'INTS', v);
};
export const str = (c: OnnxContext, name: string, def: string): string => {
  const v = c.attr(name);
  if (v === undefined) return def;
  return typeof v === 'string' ? v : wrongType(c, name, 'STRING', v);
};

/** A constant input's values as numbers, or an unsupported error (Kiln needs them at compile time). */
export function constInts(c: OnnxContext, i: number, what: string): number[] | undefined {
  if (!c.has(i)) return undefined;
  const t = c.constant(i);
  if (!t) c.unsupported(`input ${i} (${what}) must be a constant (initializer or Constant node); Kiln compiles shapes ahead of time`);
  return Array.from(t.data as ArrayLike<number>);
}

export const shapeOf = (n: Node): number[] => {
  if (n.type.shape.some((d) => typeof d !== 'number')) throw new Error(`internal: ONNX import made a batched shape`);
  return n.type.shape as number[];
};
export const prod = (xs: readonly number[]) => xs.reduce((p, d) => p * d, 1);
export const normAxis = (c: OnnxContext, axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) c.unsupported(`axis ${axis} is out of range for rank ${rank}`);
  return a;
};
export const reshape = (c: OnnxContext, x: Node, shape: readonly Dim[]): Node =>
  shapeOf(x).length === shape.length && shapeOf(x).every((d, i) => d === shape[i]) ? x : c.emit('reshape', [x], { shape: [...shape] });
export const scalar = (c: OnnxContext, value: number, dtype: DType): Node =>
  c.constNode({ name: '', onnxType: dtype === 'float64' ? 11 : dtype === 'int32' ? 6 : 1, dims: [], data: [value] });
