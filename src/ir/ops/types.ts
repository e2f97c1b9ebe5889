// The shape of an op definition: every fact about an op, in one place, looked up by every pass.
import type { Expr } from '../expr.ts';
import type { Node, TensorType } from '../node.ts';
import type { AttrSchema } from './attr-schema.ts';
import type { OpName } from './index.ts';

/**
 * How an op lowers, which decides how it may fuse:
 * - `source`: input, parameter or constant; no kernel.
 * - `elementwise`: each input whose shape equals the output's is read at the output's own index;
 *   may join its producer's kernel as an epilogue.
 * - `reduce`: has one reduction (matmul, conv, pools, reductions); anchors a kernel.
 * - `movement`: reads inputs at permuted or offset indices (transpose, slice, concat).
 * - `view`: same bytes, new shape (reshape, identity, inference-time dropout); no kernel.
 * - `composite`: rewritten into primitive ops before lowering (softmax, logSoftmax).
 */
export type OpKind = 'source' | 'elementwise' | 'reduce' | 'movement' | 'view' | 'composite';

/** What a lowering rule sees: the output index variables and a way to read inputs. */
export interface LowerCtx {
  /** One index expression per output dimension. */
  readonly out: readonly Expr[];
  readonly inputs: readonly TensorType[];
  readonly output: TensorType;
  /** Element of input `i` at a multi-index. */
  load(i: number, index: readonly Expr[]): Expr;
  /** A fresh reduction variable name. */
  fresh(prefix: string): string;
}

/** Builds a node during decomposition (type inferred, layer metadata kept). */
export type Emit = (op: OpName, inputs: readonly Node[], attrs?: Record<string, unknown>) => Node;

export interface OpDef<A = Record<string, never>> {
  readonly kind: OpKind;
  /** Number of inputs, or 'variadic' (at least one). */
  readonly arity: number | 'variadic';
  /**
   * What the op accepts in its attributes: checked (and copied) before `infer` runs, by
   * makeNode and inferType, so the DSL, graph JSON and ONNX import are all held to it.
   */
  readonly attrs: AttrSchema<A>;
  /** Output type from input types and attributes; throws RuleError when they do not fit. */
  infer(inputs: readonly TensorType[], attrs: A): TensorType;
  /** The output element at `ctx.out`, in the kernel language (every non-source, non-view op). */
  lower?(ctx: LowerCtx, attrs: A): Expr;
  /** Composite ops: the same value built from primitive ops. */
  decompose?(inputs: readonly Node[], attrs: A, emit: Emit): Node;
  /** Floating-point operations per sample (a multiply-add counts 2). */
  flops?(inputs: readonly TensorType[], output: TensorType, attrs: A): number;
  /**
   * Reads every input element exactly once (a plain reduction): fusion may recompute a cheap
   * elementwise producer inside it instead of storing the producer's result.
   */
  readonly readsOnce?: boolean;
}

/** Declares an op with its attribute type checked against its rules. */
export const defineOp = <A>(def: OpDef<A>): OpDef<A> => def;
