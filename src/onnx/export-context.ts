// What an ONNX export rule works with: the attribute builders, the per-node context the exporter
// hands each rule, and the two kinds of table entry (a rule, or the reason there is none).
import type { DType } from '../ir/dtype.ts';
import type { Graph } from '../ir/graph.ts';
import type { Node } from '../ir/node.ts';
import type { ExportPlan } from './export-cell-plan.ts';
import { onnx, type GraphProto } from './proto.ts';

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

/** ONNX element type of each Kiln dtype. */
export const ELEM_TYPE: Record<DType, number> = { float32: T.FLOAT, float64: T.DOUBLE, int32: T.INT32 };

export type Attribute = { name: string; type: number; i?: number; f?: number; s?: Uint8Array; ints?: number[]; strings?: Uint8Array[]; g?: BodyProto };
/** A subgraph written for a loop body (a GRAPH attribute's value). */
export type BodyProto = GraphProto;
export const intAttr = (name: string, i: number): Attribute => ({ name, type: A.INT, i });
export const floatAttr = (name: string, f: number): Attribute => ({ name, type: A.FLOAT, f });
export const intsAttr = (name: string, ints: readonly number[]): Attribute => ({ name, type: A.INTS, ints: [...ints] });
export const stringAttr = (name: string, s: string): Attribute => ({ name, type: A.STRING, s: new TextEncoder().encode(s) });
export const stringsAttr = (name: string, s: readonly string[]): Attribute => ({ name, type: A.STRINGS, strings: s.map((v) => new TextEncoder().encode(v)) });
export const graphAttr = (name: string, g: BodyProto): Attribute => ({ name, type: A.GRAPH, g });

/** What one Kiln node's export rule sees and may do. */
export interface ExportCtx {
  readonly node: Node;
  /** Default-domain opset being written. */
  readonly opset: number;
  /** ONNX value names of the node's inputs, in order. */
  readonly x: readonly string[];
  /** The ONNX value name of a node of this graph written earlier (an input of a planned recurrent cell). */
  valueOf(node: Node): string;
  /** The node's layer name, or its op when it has none (a prefix for the names it creates). */
  readonly layer: string;
  /** Adds the ONNX node that produces this Kiln node's value (named as a graph output if it is one). */
  emit(opType: string, input: readonly string[], attribute?: Attribute[]): string;
  /** The node's value is the existing ONNX value `name` (an initializer): a graph output gets an Identity. */
  existing(name: string): string;
  /** Adds an intermediate ONNX node and returns its output name. */
  add(opType: string, input: readonly string[], attribute?: Attribute[]): string;
  /** Adds an intermediate ONNX node with `count` outputs and returns their names. */
  addMany(opType: string, input: readonly string[], attribute: Attribute[], count: number): string[];
  /**
   * Writes a loop body as a subgraph: body input i reads the outer value `outer[i]`, or is an
   * input of the subgraph where that is undefined; its outputs are the body outputs `outputs` lists.
   */
  subgraph(body: Graph, outer: readonly (string | undefined)[], outputs: readonly number[]): BodyProto;
  /** How this graph's recurrent scans are written (export-cell-plan.ts). */
  readonly plan: ExportPlan;
  /** Adds an initializer (int64 for ONNX's shape and index inputs) and returns its name. */
  initializer(base: string, dtype: DType | 'int64', dims: readonly number[], data: ArrayLike<number>): string;
  /** A 1-d int64 initializer. */
  ints64(base: string, values: readonly number[]): string;
  /** The batch size N as an int64 [1] value, read at run time from the graph's first batched input. */
  batchSize(): string;
  /** A scalar initializer of `dtype`. */
  scalar(base: string, dtype: DType, v: number): string;
  /** Weights by parameter name. */
  readonly weights: Readonly<Record<string, Float32Array>>;
  /** Throws the KilnError that names this node's layer and op. */
  fail(why: string): never;
}

/** Writes one Kiln node as ONNX nodes; returns the ONNX name of the node's value. */
export type ExportRule<A> = (c: ExportCtx, attrs: A) => string;

/** A table entry for an op that ONNX export does not write, with the reason. */
export interface NoOnnxEquivalent {
  readonly noOnnxEquivalent: string;
}

export const noOnnxEquivalent = (reason: string): NoOnnxEquivalent => ({ noOnnxEquivalent: reason });

export const isExportRule = (entry: ExportRule<never> | NoOnnxEquivalent): entry is ExportRule<never> => typeof entry === 'function';
