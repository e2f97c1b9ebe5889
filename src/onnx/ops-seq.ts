// ONNX ops of sequence models: LayerNormalization (opset 17) and Trilu (opset 14), mapped onto
// Kiln's primitives (reductions and arithmetic; a constant mask and where).
import type { Node } from '../ir/node.ts';
import { constInts, float, int, normAxis, scalar, shapeOf, type OnnxContext, type OnnxOp } from './context.ts';

/** (X − mean) / √(var + ε) · Scale + B over the axes [axis, rank), with the biased variance. */
const layerNormalization: OnnxOp = (c) => {
  const x = c.input(0);
  const rank = shapeOf(x).length;
  const axis = normAxis(c, int(c, 'axis', -1), rank);
  if (c.wantsOutput(1) || c.wantsOutput(2)) c.unsupported(`the Mean and InvStdDev outputs are not supported (only Y)`);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  const dtype = x.type.dtype;
  const mean = c.emit('reduceMean', [x], { axes, keepdims: true });
  const centred = c.emit('sub', [x, mean]);
  const variance = c.emit('reduceMean', [c.emit('mul', [centred, centred])], { axes, keepdims: true });
  const std = c.emit('sqrt', [c.emit('add', [variance, scalar(c, float(c, 'epsilon', 1e-5), dtype)])]);
  let y: Node = c.emit('mul', [c.emit('div', [centred, std]), c.input(1)]);
  if (c.has(2)) y = c.emit('add', [y, c.input(2)]);
  return y;
};

/** Keeps the upper (j − i ≥ k) or lower (j − i ≤ k) triangle of the last two axes, zeroing the rest. */
const trilu: OnnxOp = (c) => {
  const x = c.input(0);
  const shape = shapeOf(x);
  if (shape.length < 2) c.unsupported(`Trilu needs an input of rank ≥ 2, got rank ${shape.length}`);
  const k = constInts(c, 1, 'k')?.[0] ?? 0;
  const upper = int(c, 'upper', 1) !== 0;
  const [rows, cols] = shape.slice(-2);
  const keep: number[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) keep.push((upper ? j - i >= k : j - i <= k) ? 1 : 0);
  const mask = c.constNode({ name: '', onnxType: 6, dims: [rows, cols], data: keep });
  // where, not a product with the mask: ONNX zeroes ±∞ and NaN outside the triangle too.
  return c.emit('where', [mask, x, scalar(c, 0, x.type.dtype)]);
};

/** The entries ops.ts spreads into ONNX_OPS. */
export const SEQUENCE_OPS: Readonly<Record<string, OnnxOp>> = {
  LayerNormalization: layerNormalization,
  Trilu: trilu,
};

export type { OnnxContext };
