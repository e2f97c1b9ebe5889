// The benchmark's Transformer encoder block (issue 15): 64 tokens of width 128, 4 heads of 32,
// feed-forward 128→512→128 with ReLU, post-norm (PyTorch's TransformerEncoderLayer defaults, no
// dropout). Batch 32 in the workloads; trained against a target of the same shape (mean squared error).
import { layers, sequential } from '../../src/index.ts';

export const TOKENS = 64;
export const WIDTH = 128;
export const HEADS = 4;
export const FF = 512;

export default sequential({ name: 'transformer', input: [TOKENS, WIDTH] }, [
  layers.transformerEncoderBlock({ name: 'block', heads: HEADS, ffDim: FF }),
]);
