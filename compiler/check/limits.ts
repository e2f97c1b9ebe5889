// What a model implies: parameter and activation bytes at batch 1, FLOPs per sample, nodes; and
// the check that refuses, naming the node and the figure, a model past the limits in force.
import { ShapeError } from '../../src/ir/errors.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import { formatBytes, formatCount, getLimits, LimitError, type Limits } from '../../src/ir/limits.ts';
import type { Node } from '../../src/ir/node.ts';
import { opDef } from '../../src/ir/ops/index.ts';
import { DTYPE_BYTES } from '../../src/ir/dtype.ts';
import { nodeFlops } from '../inspect/summary.ts';
import { baseOf } from '../lower/plan.ts';
import { formatShape, numel, shapeProblem } from '../../src/ir/shape.ts';

/** Bytes of a node's value at batch 1. */
export const valueBytes = (n: Node): number => numel(n.type.shape, 1) * DTYPE_BYTES[n.type.dtype];

/** What a graph costs, with the node behind each largest figure. */
export interface ModelCost {
  readonly nodes: number;
  /** Parameters and constants: stored with the model. */
  readonly parameterBytes: number;
  /** The most bytes of inputs and computed values alive at once, at batch 1 (views share their input's). */
  readonly activationBytes: number;
  readonly flops: number;
  readonly largestParameter?: Node;
  readonly largestValue?: Node;
  /** The node computed when the activations peak. */
  readonly peakAt?: Node;
  readonly costliest?: Node;
}

const isStored = (n: Node) => n.op === 'param' || n.op === 'const';

/** The costs of `g`, in one pass over its nodes in topological order (then a sweep for the peak). */
export function modelCost(g: Graph, nodes: readonly Node[] = graphNodes(g)): ModelCost {
  let parameterBytes = 0;
  let flops = 0;
  let largestParameter: Node | undefined;
  let largestValue: Node | undefined;
  let costliest: Node | undefined;
  let costliestFlops = -1;
  const position = new Map<Node, number>();
  const lastUse = new Map<Node, number>();
  nodes.forEach((n, i) => {
    position.set(n, i);
    for (const x of n.inputs) lastUse.set(baseOf(x), i);
    if (isStored(n)) {
      parameterBytes += valueBytes(n);
      if (!largestParameter || valueBytes(n) > valueBytes(largestParameter)) largestParameter = n;
      return;
    }
    if (!largestValue || valueBytes(n) > valueBytes(largestValue)) largestValue = n;
    const f = nodeFlops(n);
    flops += f;
    if (f > costliestFlops) [costliest, costliestFlops] = [n, f];
  });
  for (const o of g.outputs) lastUse.set(baseOf(o.node), nodes.length);
  // Activations: each computed value (or input) lives from where it is made to its last reader.
  const delta = new Array<number>(nodes.length + 2).fill(0);
  nodes.forEach((n, i) => {
    if (isStored(n) || opDef(n.op).kind === 'view') return;
    delta[i] += valueBytes(n);
    delta[Math.max(i, lastUse.get(n) ?? i) + 1] -= valueBytes(n);
  });
  let live = 0;
  let activationBytes = 0;
  let peakAt: Node | undefined;
  nodes.forEach((n, i) => {
    live += delta[i];
    if (live > activationBytes) [activationBytes, peakAt] = [live, n];
  });
  return { nodes: nodes.length, parameterBytes, activationBytes, flops, largestParameter, largestValue, peakAt, costliest };
}

/** `layer 'dense_1' (param)` or `node %12 (matmul)`: where a figure comes from. */
export function nodeLabel(n: Node): string {
  const name = typeof n.attrs.name === 'string' && (n.op === 'param' || n.op === 'input') ? ` '${n.attrs.name}'` : '';
  return n.meta.layer !== undefined ? `layer '${n.meta.layer}' (${n.op}${name})` : `node %${n.id} (${n.op}${name})`;
}

const MEMORY_HINT = 'raise it with --max-memory, or the maxMemory limit in the API';

/** Throws a ShapeError for any node whose shape is oversized (a dim or the element count past 2^31-1). */
export function checkShapes(nodes: readonly Node[]): void {
  for (const n of nodes) {
    const problem = shapeProblem(n.type.shape);
    if (problem) throw new ShapeError({ op: n.op, layer: n.meta.layer, source: n.meta.source }, problem);
  }
}

/**
 * Refuses `g` with a LimitError when it has too many nodes, a parameter or value larger than the
 * memory limit, parameters plus activations at batch 1 past it, or too many FLOPs per sample.
 */
export function checkLimits(g: Graph, limits: Limits = getLimits(), nodes: readonly Node[] = graphNodes(g)): ModelCost {
  if (nodes.length > limits.maxNodes) {
    throw new LimitError(`graph '${g.name}' has ${formatCount(nodes.length)} nodes, over the ${formatCount(limits.maxNodes)}-node limit (the maxNodes limit in the API)`);
  }
  checkShapes(nodes);
  const cost = modelCost(g, nodes);
  const max = limits.maxMemory;
  const over = `over the ${formatBytes(max)} limit (${MEMORY_HINT})`;
  // Exact bytes where rounding would make a figure read the same as the limit.
  const fig = (bytes: number) => (formatBytes(bytes) === formatBytes(max) ? `${formatBytes(bytes)} (${formatCount(bytes)} bytes, the limit ${formatCount(max)})` : formatBytes(bytes));
  const p = cost.largestParameter;
  if (p && valueBytes(p) > max) throw new LimitError(`${nodeLabel(p)}: ${p.op === 'const' ? 'constant' : 'parameter'} ${formatShape(p.type.shape)} is ${fig(valueBytes(p))}, ${over}`);
  const v = cost.largestValue;
  if (v && valueBytes(v) > max) throw new LimitError(`${nodeLabel(v)}: its result ${formatShape(v.type.shape)} is ${fig(valueBytes(v))} per sample, ${over}`);
  if (cost.parameterBytes > max) throw new LimitError(`graph '${g.name}': parameters take ${fig(cost.parameterBytes)} (the largest, ${nodeLabel(p!)}, ${formatBytes(valueBytes(p!))}), ${over}`);
  const total = cost.parameterBytes + cost.activationBytes;
  if (total > max) {
    throw new LimitError(`graph '${g.name}': parameters (${formatBytes(cost.parameterBytes)}) and activations at batch 1 (${formatBytes(cost.activationBytes)}, peaking at ${nodeLabel(cost.peakAt!)}) take ${fig(total)}, ${over}`);
  }
  if (cost.flops > limits.maxFlops) {
    throw new LimitError(`graph '${g.name}': ${formatCount(cost.flops)} FLOPs per sample (the most, ${formatCount(nodeFlops(cost.costliest!))}, at ${nodeLabel(cost.costliest!)}), over the ${formatCount(limits.maxFlops)} limit (the maxFlops limit in the API)`);
  }
  return cost;
}
