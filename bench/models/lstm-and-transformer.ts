// The sequence workloads of the benchmark (issue 15): the LSTM and the Transformer encoder block,
// their seeded weights (Kiln's layouts, by parameter name), inputs and training targets.
import { graphParams } from '../../src/ir/graph.ts';
import type { Model } from '../../src/dsl/model.ts';

/** Model name → module (bench/models/<name>.ts), relative to bench/run.ts. */
export const SEQUENCE_MODELS: Record<string, string> = { lstm: './models/lstm.ts', transformer: './models/transformer.ts' };

type Kind = 'infer' | 'train';
interface SequenceWorkload { id: string; title: string; kind: Kind; model: string; batch: number; unit: string }
const w = (model: string, kind: Kind, title: string): SequenceWorkload => ({ id: `${model}-${kind}-b32`, title, kind, model, batch: 32, unit: kind === 'infer' ? 'samples/s' : 'steps/s' });
export const sequenceWorkloads: SequenceWorkload[] = [
  w('lstm', 'infer', 'LSTM (50 steps × 64 features → 128 units → dense 10) inference, batch 32'),
  w('lstm', 'train', 'LSTM training step (Adam, cross-entropy), batch 32'),
  w('transformer', 'infer', 'Transformer encoder block (64 tokens, width 128, 4 heads, FF 512) inference, batch 32'),
  w('transformer', 'train', 'Transformer encoder block training step (Adam, mean squared error), batch 32'),
];

interface Makers {
  put(key: string, shape: number[], fill: () => number, dtype?: 'float32' | 'int32'): void;
  glorot(key: string, shape: number[], fanIn: number, fanOut: number): void;
  uniform(limit: number): () => number;
  floats: Record<string, Float32Array>;
}

/** The tensor key of a parameter (file names: no slashes). */
const keyOf = (model: string, param: string) => `${model}.${param.replaceAll('/', '~')}`;

/**
 * Writes the model's weights (kernels Glorot-uniform, biases and layer-norm shifts U(±0.1), scales
 * 1 + U(±0.1), so a swapped γ/β shows), the input `<model>.x` (batch 32, U(±1)) and the target
 * `<model>.y` (class ids for the LSTM, U(±1) values for the block). Returns the parameter keys in
 * Kiln's weight-file order and the weights by parameter name (for the ONNX export).
 */
export function sequenceData(model: string, m: Model, mk: Makers): { keys: string[]; weights: Record<string, Float32Array> } {
  const keys: string[] = [];
  const weights: Record<string, Float32Array> = {};
  for (const p of graphParams(m.graph)) {
    const name = p.attrs.name as string;
    const shape = p.type.shape as number[];
    const key = keyOf(model, name);
    if (shape.length === 2) mk.glorot(key, shape, shape[0], shape[1]);
    else if (name.endsWith('gamma')) mk.put(key, shape, ((u) => () => 1 + u())(mk.uniform(0.1)));
    else mk.put(key, shape, mk.uniform(0.1));
    keys.push(key);
    weights[name] = mk.floats[key];
  }
  const [, ...inShape] = m.graph.inputs[0].type.shape as (number | string)[];
  mk.put(`${model}.x`, [32, ...(inShape as number[])], mk.uniform(1));
  if (model === 'lstm') {
    let i = 0;
    mk.put(`${model}.y`, [32], () => i++ % 10, 'int32');
  } else mk.put(`${model}.y`, [32, ...(m.graph.outputs[0].node.type.shape.slice(1) as number[])], mk.uniform(1));
  return { keys, weights };
}
