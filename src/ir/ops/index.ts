// The op registry: every op Kiln knows, each defined once with all its rules.
import { RuleError, UnsupportedError } from '../errors.ts';
import { conv2d, avgPool2d, globalAvgPool, maxPool2d } from './conv.ts';
import { elementwiseOps } from './elementwise.ts';
import { matmul } from './linalg.ts';
import { movementOps } from './movement.ts';
import { batchNorm } from './norm.ts';
import { reduceOps } from './reduce.ts';
import { sourceOps } from './source.ts';
import { gradOps } from './grad-ops.ts';
import { onnxOps } from './onnx-gather.ts';
import { onnxExtraOps } from './onnx-extra.ts';
import { onnxPoolOps } from './onnx-pool.ts';
import { scanOps, setNodeFlops } from './scan.ts';
import type { OpDef } from './types.ts';

export const OPS = {
  ...sourceOps,
  ...elementwiseOps,
  matmul,
  conv2d,
  maxPool2d,
  avgPool2d,
  globalAvgPool,
  ...reduceOps,
  ...movementOps,
  batchNorm,
  ...gradOps,
  ...onnxOps,
  ...onnxExtraOps,
  ...onnxPoolOps,
  ...scanOps,
};

// A scan counts its body's work with the op table it belongs to.
setNodeFlops((n) => (opDef(n.op).flops?.(n.inputs.map((i) => i.type), n.type, n.attrs as never) ?? 0));

export type OpName = keyof typeof OPS;
/** The attribute type of op `K`. */
export type AttrsOf<K extends OpName> = (typeof OPS)[K] extends OpDef<infer A> ? A : never;

export function isOpName(op: string): op is OpName {
  return Object.prototype.hasOwnProperty.call(OPS, op);
}

/** The definition of an op, or a clear error for an op Kiln does not know. */
export function opDef(op: string): OpDef<any> {
  if (!isOpName(op)) throw new UnsupportedError(`unknown op '${op}'`);
  return OPS[op] as OpDef<any>;
}

/** Checks an op's input count before its shape rule runs. */
export function checkArity(op: string, count: number): void {
  const { arity } = opDef(op);
  if (arity === 'variadic' ? count < 1 : count !== arity) {
    throw new RuleError(`${op} takes ${arity === 'variadic' ? 'at least 1' : arity} input(s), got ${count}`);
  }
}

export type { OpDef, OpKind, LowerCtx, Emit } from './types.ts';
