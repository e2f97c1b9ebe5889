// Constant folding at import: a node whose value depends only on constants (shape arithmetic such
// as PyTorch's Shape → Gather → Unsqueeze → Concat → Reshape for `x.view(x.size(0), -1)`) is
// evaluated right away with Kiln's reference interpreter, so that ops which need a value at
// compile time (Reshape's shape, Slice's bounds, Expand's shape) get it.
import { interpret } from '../ir/interpret.ts';
import type { Node } from '../ir/node.ts';
import { numel } from '../ir/shape.ts';
import type { TensorValue } from './tensor.ts';

/** Larger constant results stay nodes: folding is for shapes and indices, not for weights. */
const MAX_FOLDED = 4096;

/** Answers so far: nodes are immutable, so whether one depends only on constants never changes. */
const constantness = new WeakMap<Node, boolean>();

/**
 * Whether every leaf below `n` is a constant (no input, parameter or random source). Iterative
 * and memoised: the import asks this of every node of chains thousands of nodes deep.
 */
function onlyConstants(root: Node): boolean {
  const stack: Node[] = [root];
  while (stack.length) {
    const n = stack[stack.length - 1];
    if (constantness.has(n)) {
      stack.pop();
      continue;
    }
    if (n.inputs.length === 0) {
      constantness.set(n, n.op === 'const');
      stack.pop();
      continue;
    }
    const pending = n.inputs.filter((i) => !constantness.has(i));
    if (pending.length) {
      stack.push(...pending);
      continue;
    }
    constantness.set(n, n.inputs.every((i) => constantness.get(i)));
    stack.pop();
  }
  return constantness.get(root)!;
}

/** ONNX element type of a folded value: int32 ones stand for INT64 (shapes and indices). */
const ONNX_TYPE = { float32: 1, int32: 7, float64: 11 } as const;

/** The value of `n` if it is a small constant expression, else undefined. */
export function foldConstant(n: Node): TensorValue | undefined {
  if (n.op === 'const' || !onlyConstants(n)) return undefined;
  const dims = n.type.shape as number[];
  if (dims.some((d) => typeof d !== 'number') || numel(dims) > MAX_FOLDED) return undefined;
  const data = interpret({ name: 'fold', inputs: [], outputs: [{ name: 'v', node: n }] }, {}, {}, 1).v;
  // Constants are stored as JSON numbers: an infinity or NaN stays a computed node.
  if (!data.every(Number.isFinite)) return undefined;
  return { name: '', onnxType: ONNX_TYPE[n.type.dtype], dims: [...dims], data };
}
