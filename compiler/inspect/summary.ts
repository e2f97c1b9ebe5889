// Model summaries: per-layer output shapes, parameter counts and FLOPs, and a Keras-style table of them.
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { opDef } from '../../src/ir/ops/index.ts';
import { sanitizeLine } from '../../src/ir/print.ts';
import { formatShape, numel, type Dim } from '../../src/ir/shape.ts';
import { formatCount, renderTable, type Column } from './table.ts';

/** One layer of a summary: the nodes that share a `meta.layer`, or one unlabelled node. */
export interface LayerRow {
  /** The layer's name, or the op of a node that belongs to no layer. */
  name: string;
  /** The layer's kind as the user spelled it (`Dense`), or the op of an unlabelled node. */
  kind: string;
  /** The op of each of the layer's nodes (parameters included), in topological order. */
  ops: string[];
  /** The shape of the layer's last node, batch dimension as 'N'. */
  outputShape: Dim[];
  /** Elements of the layer's `param` nodes, trainable or not. */
  params: number;
  /** Floating-point operations per sample, by each op's own rule (a multiply-add counts 2). */
  flops: number;
}

/** A model's layers in topological order of first appearance, and its totals. */
export interface Summary {
  model: string;
  layers: LayerRow[];
  totals: {
    params: number;
    trainableParams: number;
    nonTrainableParams: number;
    /** Per sample: the batch dimension counts as 1. */
    flops: number;
    /** Multiply-accumulates per sample of the matmul and conv2d nodes (half their FLOPs). */
    macs?: number;
  };
}

/** Ops whose FLOPs are all multiply-adds, so MACs are half of them. */
const MAC_OPS = new Set(['matmul', 'conv2d']);

/** Floating-point operations per sample of one node, by its op's rule (0 for ops without one). */
export function nodeFlops(node: Node): number {
  const rule = opDef(node.op).flops;
  return rule ? rule(node.inputs.map((i) => i.type), node.type, node.attrs) : 0;
}

/** Elements of a `param` node (0 for any other node). */
export function paramCount(node: Node): number {
  return node.op === 'param' ? numel(node.type.shape) : 0;
}

/** Nodes grouped by layer, groups in order of first appearance; unlabelled nodes stand alone. */
function groupByLayer(nodes: readonly Node[]): Node[][] {
  const groups = new Map<string, Node[]>();
  nodes.forEach((n, i) => {
    const key = n.meta.layer !== undefined ? `layer:${n.meta.layer}` : `node:${i}`;
    const group = groups.get(key);
    if (group) group.push(n);
    else groups.set(key, [n]);
  });
  return [...groups.values()];
}

function layerRow(nodes: readonly Node[]): LayerRow {
  const first = nodes[0];
  const last = nodes[nodes.length - 1];
  return {
    name: first.meta.layer ?? first.op,
    kind: first.meta.layerKind ?? last.op,
    ops: nodes.map((n) => n.op),
    outputShape: [...last.type.shape],
    params: nodes.reduce((s, n) => s + paramCount(n), 0),
    flops: nodes.reduce((s, n) => s + nodeFlops(n), 0),
  };
}

/** Per-layer shapes, parameters and FLOPs of a graph (every node reachable from its outputs). */
export function summarize(g: Graph): Summary {
  const nodes = graphNodes(g);
  const layers = groupByLayer(nodes).map(layerRow);
  const params = nodes.filter((n) => n.op === 'param');
  const frozen = params.filter((n) => n.attrs.trainable === false);
  const count = (ns: readonly Node[]) => ns.reduce((s, n) => s + paramCount(n), 0);
  const total = count(params);
  return {
    model: g.name,
    layers,
    totals: {
      params: total,
      trainableParams: total - count(frozen),
      nonTrainableParams: count(frozen),
      flops: layers.reduce((s, l) => s + l.flops, 0),
      macs: nodes.filter((n) => MAC_OPS.has(n.op)).reduce((s, n) => s + nodeFlops(n) / 2, 0),
    },
  };
}

const COLUMNS: readonly Column[] = [
  { header: 'Layer (type)', align: 'left' },
  { header: 'Output Shape', align: 'left' },
  { header: 'Param #', align: 'right' },
  { header: 'FLOPs', align: 'right' },
];

/** A row's cells; names come from the model file, so they are sanitised to one line. */
function rowCells(l: LayerRow): string[] {
  const label = l.kind && l.kind !== l.name ? `${l.name} (${l.kind})` : l.name;
  return [sanitizeLine(label), formatShape(l.outputShape), formatCount(l.params), formatCount(l.flops)];
}

/** A Keras-style summary table followed by the totals, e.g. `Total params: 693,962`. */
export function formatSummary(s: Summary): string {
  const totals = [
    `Total params: ${formatCount(s.totals.params)}`,
    `Trainable params: ${formatCount(s.totals.trainableParams)}`,
    `Non-trainable params: ${formatCount(s.totals.nonTrainableParams)}`,
    `FLOPs per sample: ${formatCount(s.totals.flops)}`,
  ];
  if (s.totals.macs !== undefined) totals.push(`MACs per sample: ${formatCount(s.totals.macs)}`);
  return [`Model: "${sanitizeLine(s.model)}"`, renderTable(COLUMNS, s.layers.map(rowCells)), ...totals].join('\n');
}
