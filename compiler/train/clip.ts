// Gradient clipping as IR, inside the training step: by the global norm of all gradients
// (torch.nn.utils.clip_grad_norm_) and by value (torch.nn.utils.clip_grad_value_).
import { makeNode } from '../../src/ir/build.ts';
import type { Node } from '../../src/ir/node.ts';
import type { OpName } from '../../src/ir/ops/index.ts';
import type { ClipSettings } from './optimizer-spec.ts';

const meta = { layer: 'clip', layerKind: 'GradientClip' };
const op = (name: OpName, inputs: Node[], attrs: Record<string, unknown> = {}) => makeNode(name, inputs, attrs, meta);
const scalar = (v: number, like: Node) => op('const', [], { dtype: like.type.dtype, shape: [], values: [v] });

/** Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)), ‖g‖ the 2-norm of all gradients together. */
export function clipByGlobalNorm(grads: readonly Node[], maxNorm: number): Node[] {
  if (grads.length === 0) return [];
  const squares = grads.map((g) => op('reduceSum', [op('mul', [g, g])], { axes: [], keepdims: false }));
  // A left fold, not recursion: a model may have hundreds of parameters.
  let total = squares[0];
  for (let i = 1; i < squares.length; i++) total = op('add', [total, squares[i]]);
  const norm = op('sqrt', [total]);
  const scale = op('minimum', [scalar(1, norm), op('div', [scalar(maxNorm, norm), op('add', [norm, scalar(1e-6, norm)])])]);
  return grads.map((g) => op('mul', [g, scale]));
}

/** Clamps every gradient element to [-limit, limit]. */
export function clipByValue(grads: readonly Node[], limit: number): Node[] {
  return grads.map((g) => op('minimum', [op('maximum', [g, scalar(-limit, g)]), scalar(limit, g)]));
}

/** Both clippings as asked: the norm first, then the value (as a PyTorch loop calling both would). */
export function clipGradients(grads: readonly Node[], clip: ClipSettings): Node[] {
  let out = [...grads];
  if (clip.clipNorm !== undefined) out = clipByGlobalNorm(out, clip.clipNorm);
  if (clip.clipValue !== undefined) out = clipByValue(out, clip.clipValue);
  return out;
}
