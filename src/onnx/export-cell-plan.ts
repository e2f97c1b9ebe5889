// Which of a graph's scans the ONNX exporter writes as one LSTM/GRU/RNN node, decided before any
// node is written: the body must be the cell (export-cell-match.ts), its sequence the input
// projection X·K + b with K and b known at export time (so they re-pack into ONNX's W and B), the
// recurrent weights known too, and every reader of the scan's value one the ONNX node's outputs
// can serve (an LSTM's per-step c is not an output of ONNX's LSTM). The projection feeding such
// a scan is then not written at all: the ONNX node does it.
import type { TypedArray } from '../ir/dtype.ts';
import { graphNodes, type Graph } from '../ir/graph.ts';
import { interpret } from '../ir/interpret.ts';
import type { Node } from '../ir/node.ts';
import { resolveSlice, type SliceAttrs } from '../ir/ops/movement.ts';
import type { ScanAttrs } from '../ir/ops/scan.ts';
import { GATE_COUNT } from '../ir/recurrent.ts';
import { BATCH, numel } from '../ir/shape.ts';
import { gateOrderOf, matchCell, type CellMatch } from './export-cell-match.ts';
import { restackedConcats } from './export-restack.ts';

/** A scan written as an ONNX recurrent node: its weights already in ONNX's layout (one direction). */
export interface CellPlan {
  match: CellMatch;
  /** The sequence the projection reads, [N, T, F], or [T, N, F] when `sequenceFirst`. */
  x: Node;
  /** The projection was computed sequence-first and transposed into the scan (PyTorch's layout): X goes to ONNX as it is. */
  sequenceFirst: boolean;
  /** A stacked LSTM whose readers all slice h by non-negative bounds: its value can be h alone, [N, T, H]. */
  hOnly: boolean;
  /** The initial carry, unless it is known to be zero (then ONNX's default zero state is used). */
  initial?: Node;
  /** Input size F. */
  inputSize: number;
  /** ONNX W [1, G·H, F], R [1, G·H, H], B [1, 2·G·H], P [1, 3·H] (LSTM peepholes), row-major. */
  W: Float64Array;
  R: Float64Array;
  B: Float64Array;
  P?: Float64Array;
}

/** One direction's outputs of a written ONNX recurrent node, each made when first asked for: Y [T, 1, N, H], Y_h and Y_c (LSTM) [1, N, H]. */
export interface CellOutputs {
  Y(): string;
  Yh(): string;
  Yc(): string;
}

/** Per graph: the scans written as ONNX recurrent nodes. */
export interface ExportPlan {
  readonly cells: ReadonlyMap<Node, CellPlan>;
  /** A forward and a reverse cell over the same X (a bidirectional layer), each to the other: one ONNX node serves both. */
  readonly pairs: ReadonlyMap<Node, Node>;
  /** Concats that restack every unit slice of one tensor, each to that tensor (export-restack.ts). */
  readonly restacks: ReadonlyMap<Node, Node>;
  /** Outputs of the recurrent nodes written so far, by scan (the second of a pair finds its direction here). */
  readonly written: Map<Node, CellOutputs>;
}

/** ONNX's gate order per cell kind. */
const ONNX_GATES = { rnn: ['i'], lstm: ['i', 'o', 'f', 'c'], gru: ['z', 'r', 'h'] } as const;

/** A value computed from weights and constants alone, evaluated now; undefined if it reads anything else. */
function valueAtExport(node: Node, weights: Readonly<Record<string, Float32Array>>): TypedArray | undefined {
  const stack = [node];
  const seen = new Set<Node>();
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.op === 'input' || n.op === 'scan' || n.type.shape.includes(BATCH)) return undefined;
    // A missing or misshapen weight: the plan steps aside and the param's own rule says what is wrong.
    if (n.op === 'param' && (!Object.hasOwn(weights, String(n.attrs.name)) || weights[String(n.attrs.name)].length !== numel(n.type.shape))) return undefined;
    stack.push(...n.inputs);
  }
  return interpret({ name: 'weights', inputs: [], outputs: [{ name: 'v', node }] }, {}, weights, 1).v;
}

/** A carry that is zero whatever the input: a zero constant, moved or broadcast. */
function isZero(node: Node): boolean {
  const stack = [node];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.op === 'const') {
      if ((n.attrs.values as number[]).some((v) => v !== 0)) return false;
    } else if (['reshape', 'identity', 'expand', 'cast', 'transpose', 'slice', 'concat'].includes(n.op)) {
      stack.push(...n.inputs);
    } else return false;
  }
  return true;
}

/** The projection X·K (+ b) a cell's sequence must be: K [F, G·H] (or [G·H, F] with transB) and b [G·H]. */
function projection(xw: Node, GH: number): { x: Node; kernel: Node; transB: boolean; bias?: Node } | undefined {
  const asMatmul = (n: Node) => (n.op === 'matmul' && !n.attrs.transA && n.inputs[0].type.shape.length === 3 && n.inputs[1].type.shape.length === 2 ? n : undefined);
  const isBias = (n: Node) => n.type.shape.length >= 1 && n.type.shape.every((d, i, s) => (i === s.length - 1 ? d === GH : d === 1));
  let mm = asMatmul(xw);
  let bias: Node | undefined;
  if (!mm && xw.op === 'add') {
    const [a, b] = xw.inputs;
    if (asMatmul(a) && isBias(b)) [mm, bias] = [a, b];
    else if (asMatmul(b) && isBias(a)) [mm, bias] = [b, a];
  }
  if (!mm) return undefined;
  return { x: mm.inputs[0], kernel: mm.inputs[1], transB: Boolean(mm.attrs.transB), bias };
}

/** Who reads each node, and which nodes are graph outputs (read whole). */
export interface Readers {
  of: ReadonlyMap<Node, readonly Node[]>;
  outputs: ReadonlySet<Node>;
}

/**
 * Whether every value read from a stacked LSTM's [N, T, h|c] is h, or c at the final step only:
 * what ONNX's LSTM outputs can rebuild. Reads are followed through chains of slices (the DSL takes
 * the final c as a time slice of a c slice), composing the indices each selects on axes 1 and 2.
 */
function readersServed(scan: Node, readers: Readers, H: number): boolean {
  const a = scan.attrs as unknown as ScanAttrs;
  const last = a.reverse ? 0 : a.steps - 1;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const served = (time: number[], feature: number[]) => feature.every((f) => f < H) || time.every((t) => t === last);
  const stack: [Node, number[], number[]][] = [[scan, range(a.steps), range(2 * H)]];
  while (stack.length) {
    const [node, time, feature] = stack.pop()!;
    if (served(time, feature)) continue;
    const users = readers.of.get(node) ?? [];
    if (readers.outputs.has(node) || users.length === 0) return false;
    for (const r of users) {
      if (r.op !== 'slice') return false;
      const [, t, f] = resolveSlice(node.type, r.attrs as unknown as SliceAttrs);
      const pick = (from: number[], s: { start: number; step: number; size: number | string }) => range(s.size as number).map((k) => from[s.start + k * s.step]);
      stack.push([r, pick(time, t), pick(feature, f)]);
    }
  }
  return true;
}

/** Every reader of the scan slices features [0, H) with bounds that mean the same on an [N, T, H] value. */
function readsHOnly(scan: Node, readers: Readers, H: number): boolean {
  if (readers.outputs.has(scan)) return false;
  return (readers.of.get(scan) ?? []).every((r) => {
    if (r.op !== 'slice') return false;
    const a = r.attrs as unknown as SliceAttrs;
    const axes = a.axes ?? a.starts.map((_, i) => i);
    const k = axes.findIndex((x) => x === 2 || x === -1);
    return k >= 0 && a.starts[k] >= 0 && a.ends[k] >= 0 && a.ends[k] <= H && (a.steps?.[k] ?? 1) > 0;
  });
}

/** Gate blocks re-ordered into ONNX's order and laid out [G·H, inner] (rows: gate units). */
function repack(order: (g: string) => number, gates: readonly string[], H: number, inner: number, at: (row: number, col: number) => number): Float64Array {
  const out = new Float64Array(gates.length * H * inner);
  gates.forEach((g, k) => {
    const from = order(g) * H;
    for (let u = 0; u < H; u++) for (let v = 0; v < inner; v++) out[(k * H + u) * inner + v] = at(from + u, v);
  });
  return out;
}

/** The plan for one scan, or undefined when it is written as a general Scan. */
function planCell(scan: Node, readers: Readers, weights: Readonly<Record<string, Float32Array>>): CellPlan | undefined {
  const match = matchCell(scan);
  if (!match) return undefined;
  const { cell } = match;
  const H = cell.hiddenSize;
  const G = GATE_COUNT[cell.kind];
  const a = scan.attrs as unknown as ScanAttrs;
  if (cell.kind === 'lstm' && a.stack && !readersServed(scan, readers, H)) return undefined;
  // A sequence-first projection [T, N, G·H] enters the scan through a transpose of its first two axes.
  const seq = scan.inputs[1];
  const sequenceFirst = seq.op === 'transpose' && (seq.attrs.perm as number[]).join() === '1,0,2';
  const proj = projection(sequenceFirst ? seq.inputs[0] : seq, G * H);
  if (!proj || proj.x.type.shape[sequenceFirst ? 0 : 1] !== a.steps) return undefined;
  const F = proj.x.type.shape[2];
  if (typeof F !== 'number') return undefined;
  const K = valueAtExport(proj.kernel, weights);
  const b = proj.bias ? valueAtExport(proj.bias, weights) : new Float64Array(G * H);
  const R = valueAtExport(match.recurrent, weights);
  const Rb = match.recurrentBias ? valueAtExport(match.recurrentBias, weights) : new Float64Array(G * H);
  const P = match.peepholes ? valueAtExport(match.peepholes, weights) : undefined;
  if (!K || !b || !R || !Rb || (match.peepholes && !P)) return undefined;
  const gates = ONNX_GATES[cell.kind];
  const order = gateOrderOf(cell)!;
  const pos = (g: string): number => (cell.kind === 'rnn' ? 0 : cell.kind === 'lstm' ? order.lstm[g as 'i'] : order.gru[g as 'z']);
  const GH = G * H;
  // W rows are gate units, columns input features: K[f, j] (or K[j, f] with transB).
  const W = repack(pos, gates, H, F, (j, f) => (proj.transB ? K[j * F + f] : K[f * GH + j]));
  // R rows are gate units, columns hidden units: Kiln's h·R reads R[v, j] (or R[j, v] when transposed).
  const Rx = repack(pos, gates, H, H, (j, v) => (match.transposed ? R[j * H + v] : R[v * GH + j]));
  const bias = (src: ArrayLike<number>) => repack(pos, gates, H, 1, (j) => src[j]);
  // A GRU with the linear transformation before the reset keeps its recurrent bias apart (ONNX's Rb); otherwise it is folded into b.
  const B = Float64Array.from([...bias(b), ...(cell.linearBeforeReset ? bias(Rb) : new Float64Array(GH))]);
  const initial = isZero(scan.inputs[0]) ? undefined : scan.inputs[0];
  const hOnly = cell.kind === 'lstm' && a.stack && readsHOnly(scan, readers, H);
  return { match, x: proj.x, sequenceFirst, hOnly, initial, inputSize: F, W, R: Rx, B, P: P ? Float64Array.from(P) : undefined };
}

/** What must agree for two directions to share one ONNX node (bidirectional): the input, the cell, every shared attribute. */
function pairKey(p: CellPlan): string {
  const { cell, clip } = p.match;
  return [p.x.id, cell.kind, cell.hiddenSize, cell.linearBeforeReset, clip ?? '', p.sequenceFirst, p.P !== undefined].join('|');
}

/** Forward and reverse cells over the same X, each starting from zero, paired in graph order. */
function pairDirections(cells: ReadonlyMap<Node, CellPlan>): Map<Node, Node> {
  const pairs = new Map<Node, Node>();
  const waiting = new Map<string, Node>();
  for (const [scan, p] of cells) {
    if (p.initial) continue;
    const key = pairKey(p);
    const other = waiting.get(`${key}|${p.match.cell.direction === 'forward' ? 'reverse' : 'forward'}`);
    if (other) {
      pairs.set(scan, other).set(other, scan);
      waiting.delete(`${key}|${cells.get(other)!.match.cell.direction}`);
    } else if (!waiting.has(`${key}|${p.match.cell.direction}`)) waiting.set(`${key}|${p.match.cell.direction}`, scan);
  }
  return pairs;
}

/** Decides, for each scan of `graph`, whether it is written as an ONNX recurrent node. */
export function planGraph(graph: Graph, weights: Readonly<Record<string, Float32Array>>): ExportPlan {
  const nodes = graphNodes(graph);
  const scans = nodes.filter((n) => n.op === 'scan');
  const cells = new Map<Node, CellPlan>();
  const written = new Map<Node, CellOutputs>();
  if (scans.length === 0) return { cells, pairs: new Map(), written, restacks: new Map() };
  const of = new Map<Node, Node[]>();
  for (const n of nodes) {
    for (const i of new Set(n.inputs)) {
      const list = of.get(i);
      if (list) list.push(n);
      else of.set(i, [n]);
    }
  }
  const readers: Readers = { of, outputs: new Set(graph.outputs.map((o) => o.node)) };
  for (const s of scans) {
    const plan = planCell(s, readers, weights);
    if (plan) cells.set(s, plan);
  }
  return { cells, pairs: pairDirections(cells), written, restacks: restackedConcats(nodes) };
}

/** The nodes the export writes, in topological order: those the outputs need, reading through each planned cell's X and initial state only. */
export function liveNodes(graph: Graph, plan: ExportPlan): Node[] {
  const live = new Set<Node>();
  const stack = graph.outputs.map((o) => o.node);
  while (stack.length) {
    const n = stack.pop()!;
    if (live.has(n)) continue;
    live.add(n);
    const cell = plan.cells.get(n);
    const restacked = plan.restacks.get(n);
    stack.push(...(cell ? [cell.x, ...(cell.initial ? [cell.initial] : [])] : restacked ? [restacked] : n.inputs));
  }
  return graphNodes(graph).filter((n) => live.has(n));
}
