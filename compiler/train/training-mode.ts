// The forward graph as it runs in training: dropout draws a mask, batch normalisation uses the
// batch's statistics and updates its running averages. Inference keeps the graph as written.
import { makeNode, withInputs } from '../../src/ir/build.ts';
import { graphNodes, rewriteGraph, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import type { OpName } from '../../src/ir/ops/index.ts';

export interface TrainingModeGraph {
  readonly graph: Graph;
  /** Non-trainable state (batch-norm running statistics) and its value after the step. */
  readonly updates: readonly (readonly [Node, Node])[];
}

/** Which of the graph's dropout masks this is: each draws its own counters from the step's seed. */
interface MaskStream {
  readonly stream: number;
  readonly streams: number;
}

/** Dropout as x ⊙ mask, the mask drawn from the step's seed on its own stream. */
function trainingDropout(n: Node, seed: Node, s: MaskStream): Node {
  const rate = n.attrs.rate as number;
  if (!rate) return n.inputs[0];
  // One stream (a model with one dropout) keeps the attributes, and the kernel, it always had.
  const stream = s.streams > 1 ? { stream: s.stream, streams: s.streams } : {};
  const mask = makeNode('dropoutMask', [n.inputs[0], seed], { rate, ...stream }, n.meta);
  return makeNode('mul', [n.inputs[0], mask], {}, n.meta);
}

/**
 * The batch variance times n/(n − 1), n the values per channel (batch × spatial sizes; the batch
 * known only at run time): what PyTorch's running variance tracks. One value per channel (n = 1)
 * gives 0, not 0/0 (PyTorch refuses such a batch in training).
 */
function unbiased(x: Node, variance: Node, op: (name: OpName, inputs: Node[], attrs?: Record<string, unknown>) => Node, c: (v: number) => Node): Node {
  const [batch, , ...spatial] = x.type.shape;
  const perSample = spatial.reduce<number>((p, d) => p * (d as number), 1);
  const count = typeof batch === 'number' ? c(batch * perSample) : op('mul', [op('batchSize', [], { dtype: x.type.dtype }), c(perSample)]);
  return op('div', [op('mul', [variance, count]), op('maximum', [op('sub', [count, c(1)]), c(1)])]);
}

/**
 * Batch norm with the batch's mean and (biased) variance over every axis but the channel; the
 * running variance tracks the unbiased batch variance (PyTorch) unless the layer asks for the
 * biased one (runningVariance 'biased', Keras).
 */
function trainingBatchNorm(n: Node, updates: (readonly [Node, Node])[]): Node {
  const [x, gamma, beta, running, runningVar] = n.inputs;
  const op = (name: OpName, inputs: Node[], attrs: Record<string, unknown> = {}) => makeNode(name, inputs, attrs, n.meta);
  const c = (v: number) => op('const', [], { dtype: x.type.dtype, shape: [], values: [v] });
  const rank = x.type.shape.length;
  const axes = x.type.shape.map((_, i) => i).filter((i) => i !== 1);
  const channels = x.type.shape[1] as number;
  const perChannel = (t: Node) => (rank > 2 ? op('reshape', [t], { shape: [channels, ...new Array(rank - 2).fill(1)] }) : t);
  const mean = op('reduceMean', [x], { axes, keepdims: true });
  const centred = op('sub', [x, mean]);
  const variance = op('reduceMean', [op('mul', [centred, centred])], { axes, keepdims: true });
  const normalised = op('div', [centred, op('sqrt', [op('add', [variance, c(n.attrs.epsilon as number)])])]);
  const momentum = (n.attrs.momentum as number | undefined) ?? 0.9;
  const blend = (old: Node, batch: Node) => op('add', [op('mul', [c(momentum), old]), op('mul', [c(1 - momentum), op('reshape', [batch], { shape: [channels] })])]);
  const tracked = n.attrs.runningVariance === 'biased' ? variance : unbiased(x, variance, op, c);
  updates.push([running, blend(running, mean)], [runningVar, blend(runningVar, tracked)]);
  return op('add', [op('mul', [normalised, perChannel(gamma)]), perChannel(beta)]);
}

export function toTrainingMode(g: Graph, seed: Node): TrainingModeGraph {
  const updates: (readonly [Node, Node])[] = [];
  const streams = countDropouts(g);
  let stream = 0;
  const graph = rewriteGraph(g, (node, rebuild) => {
    const n = withInputs(node, node.inputs.map(rebuild));
    if (n.op === 'dropout') return trainingDropout(n, seed, { stream: stream++, streams });
    if (n.op === 'batchNorm') return trainingBatchNorm(n, updates);
    return n;
  });
  return { graph, updates };
}

/** The dropout nodes that draw a mask (rate > 0): the streams the step's seed is split into. */
function countDropouts(g: Graph): number {
  return Math.max(1, graphNodes(g).filter((n) => n.op === 'dropout' && n.attrs.rate).length);
}
