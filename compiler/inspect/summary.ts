// Model summaries: per-layer output shapes, parameter counts and FLOPs, and a Keras-style table of them.
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { Node, TensorType } from '../../src/ir/node.ts';
import { opDef } from '../../src/ir/ops/index.ts';
import { sanitizeLine } from '../../src/ir/print.ts';
import { DTYPE_BYTES } from '../../src/ir/dtype.ts';
import { BATCH, formatShape, numel, sampleSize, type Dim } from '../../src/ir/shape.ts';
import { graphLayout, userShape, type Layout } from './layout.ts';
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
  /** The layers whose values this layer reads (parameters aside), in order: a functional model's branches. */
  connectedTo: string[];
  /** Bytes per sample of the layer's output (its last node): its activation memory is this times the batch. */
  activationBytes: number;
}

/** A model's layers in topological order of first appearance, and its totals. */
export interface Summary {
  model: string;
  /** Channels-last when the model's input was declared so: `outputShape`s are then NHWC (layout.ts). */
  layout: Layout;
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

/** Floating-point operations of one node at `batch` (default: per sample), by its op's rule (0 for ops without one). */
export function nodeFlops(node: Node, batch = 1): number {
  const rule = opDef(node.op).flops;
  if (!rule) return 0;
  // The batch put into the shapes: a rule that reads a dimension (a product contracting over the
  // batch, like a weight gradient's xᵀ · dy) sees a number, not 'N'.
  const at = (t: TensorType): TensorType => ({ ...t, shape: t.shape.map((d) => (d === BATCH ? batch : d)) });
  return rule(node.inputs.map((i) => at(i.type)), at(node.type), node.attrs);
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

/** The row name a node is listed under: its layer, or (unlabelled) its op. */
const rowName = (n: Node) => n.meta.layer ?? n.op;

/** The layers a group's nodes read from outside it (parameters and constants aside), first read first. */
function connections(nodes: readonly Node[]): string[] {
  const own = new Set(nodes);
  const from = nodes.flatMap((n) => n.inputs).filter((i) => !own.has(i) && i.op !== 'param' && i.op !== 'const');
  return [...new Set(from.map(rowName))];
}

function layerRow(nodes: readonly Node[], layout: Layout, inputs: ReadonlySet<Node>): LayerRow {
  const first = nodes[0];
  const last = nodes[nodes.length - 1];
  return {
    name: rowName(first),
    kind: first.meta.layerKind ?? last.op,
    ops: nodes.map((n) => n.op),
    outputShape: userShape(last.type.shape, layout, inputs.has(last)),
    params: nodes.reduce((s, n) => s + paramCount(n), 0),
    flops: nodes.reduce((s, n) => s + nodeFlops(n), 0),
    connectedTo: connections(nodes),
    activationBytes: sampleSize(last.type.shape) * DTYPE_BYTES[last.type.dtype],
  };
}

/** Per-layer shapes, parameters and FLOPs of a graph (every node reachable from its outputs). */
export function summarize(g: Graph): Summary {
  const nodes = graphNodes(g);
  const layout = graphLayout(g);
  const inputs = new Set(g.inputs);
  const layers = groupByLayer(nodes).map((group) => layerRow(group, layout, inputs));
  const params = nodes.filter((n) => n.op === 'param');
  const frozen = params.filter((n) => n.attrs.trainable === false);
  const count = (ns: readonly Node[]) => ns.reduce((s, n) => s + paramCount(n), 0);
  const total = count(params);
  return {
    model: g.name,
    layout,
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

/** Batch size at which `kiln summary` states activation memory unless told another. */
export const DEFAULT_SUMMARY_BATCH = 64;

/** Whether the layers form more than a chain: some layer reads another than the row before it (a branch, a merge). */
export function isFunctional(s: Summary): boolean {
  return s.layers.some((l, i) => i > 0 && (l.connectedTo.length !== 1 || l.connectedTo[0] !== s.layers[i - 1].name));
}

/** Bytes in KiB or MiB, one decimal: activation columns and memory lines. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KiB'] : [bytes / (1024 * 1024), 'MiB'];
  return `${value.toLocaleString('en-US', { maximumFractionDigits: 1 })} ${unit}`;
}

function columns(batch: number, connected: boolean): Column[] {
  return [
    { header: 'Layer (type)', align: 'left' },
    { header: 'Output Shape', align: 'left' },
    { header: 'Param #', align: 'right' },
    { header: 'FLOPs', align: 'right' },
    { header: `Activations @${batch}`, align: 'right' },
    ...(connected ? [{ header: 'Connected to', align: 'left' } as const] : []),
  ];
}

/** A row's cells; names come from the model file, so they are sanitised to one line. */
function rowCells(l: LayerRow, batch: number, connected: boolean): string[] {
  const label = l.kind && l.kind !== l.name ? `${l.name} (${l.kind})` : l.name;
  const cells = [sanitizeLine(label), formatShape(l.outputShape), formatCount(l.params), formatCount(l.flops), formatBytes(l.activationBytes * batch)];
  return connected ? [...cells, sanitizeLine(l.connectedTo.join(', '))] : cells;
}

/**
 * A Keras-style summary table followed by the totals, e.g. `Total params: 693,962`. Activation
 * memory is each layer's output at `batch`; a functional model (branches, merges) gets a
 * "Connected to" column; a channels-last model's shapes are NHWC, as its user declared them.
 */
export function formatSummary(s: Summary, batch = DEFAULT_SUMMARY_BATCH): string {
  const totals = [
    `Total params: ${formatCount(s.totals.params)}`,
    `Trainable params: ${formatCount(s.totals.trainableParams)}`,
    `Non-trainable params: ${formatCount(s.totals.nonTrainableParams)}`,
    `FLOPs per sample: ${formatCount(s.totals.flops)}`,
  ];
  if (s.totals.macs !== undefined) totals.push(`MACs per sample: ${formatCount(s.totals.macs)}`);
  if (s.layout === 'channels-last') totals.push('Shapes are channels-last (NHWC), as the input was declared.');
  const connected = isFunctional(s);
  return [`Model: "${sanitizeLine(s.model)}"`, renderTable(columns(batch, connected), s.layers.map((l) => rowCells(l, batch, connected))), ...totals].join('\n');
}
