// Recognises a recurrent scan's body as the cell src/ir/recurrent.ts builds (cellBody), so the
// exporter may write an ONNX LSTM/GRU/RNN node for it: the `cell` attribute says what the scan
// claims to be, and the body is rebuilt from that claim and compared node for node, so a body
// that differs in anything (activations, clip, peepholes, a hand-edited graph) is not mistaken
// for the cell and is written as a general Scan instead.
import { makeNode } from '../ir/build.ts';
import { KilnError } from '../ir/errors.ts';
import type { Graph } from '../ir/graph.ts';
import type { Node } from '../ir/node.ts';
import type { CellAttrs, ScanAttrs } from '../ir/ops/scan.ts';
import type { OpName } from '../ir/ops/index.ts';
import { cellBody, GATE_COUNT, type CellSpec, type GateOrder } from '../ir/recurrent.ts';
import { sameShape } from '../ir/shape.ts';

/** A body proven to be the cell: what cellBody was given to build it. */
export interface CellMatch {
  cell: CellAttrs;
  /** Gate activation f, candidate activation g, LSTM output activation h. */
  activations: { f: OpName; g: OpName; h: OpName };
  /** The recurrent weights are [G·H, H] (ONNX's R), not [H, G·H]. */
  transposed: boolean;
  clip?: number;
  /** The scan's inputs that are the recurrent weights, the GRU recurrent bias and the LSTM peepholes. */
  recurrent: Node;
  recurrentBias?: Node;
  peepholes?: Node;
}

const ROLES = ['recurrent', 'recurrentBias', 'peepholes'] as const;
const ACTIVATIONS: readonly OpName[] = ['sigmoid', 'tanh', 'relu'];

/** A cell attribute's gate order as recurrent.ts's block positions. */
export function gateOrderOf(cell: CellAttrs): GateOrder | undefined {
  const o = cell.gateOrder;
  const pos = (ch: string) => o.indexOf(ch);
  if (cell.kind === 'rnn') return { lstm: { i: 0, f: 1, c: 2, o: 3 }, gru: { z: 0, r: 1, h: 2 } };
  if (cell.kind === 'lstm' && o.length === 4) return { lstm: { i: pos('i'), f: pos('f'), c: pos('c'), o: pos('o') }, gru: { z: 0, r: 1, h: 2 } };
  if (cell.kind === 'gru' && o.length === 3) return { lstm: { i: 0, f: 1, c: 2, o: 3 }, gru: { z: pos('z'), r: pos('r'), h: pos('h') } };
  return undefined;
}

/** Deep equality of attribute values (numbers, strings, booleans, lists, records); graphs never equal. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || 'outputs' in a) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  // Nested values are small attribute records: a short explicit stack keeps this walk iterative.
  const stack: [unknown, unknown][] = ka.map((k) => [ra[k], rb[k]]);
  while (stack.length) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || Array.isArray(x) !== Array.isArray(y)) return false;
    const kx = Object.keys(x);
    if (kx.length !== Object.keys(y).length || 'outputs' in x) return false;
    for (const k of kx) stack.push([(x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]]);
  }
  return true;
}

/** Two bodies compute the same thing node for node (inputs matched by position; metadata ignored). */
export function sameBody(a: Graph, b: Graph): boolean {
  if (a.inputs.length !== b.inputs.length || a.outputs.length !== b.outputs.length) return false;
  const pair = new Map<Node, Node>();
  const back = new Map<Node, Node>();
  a.inputs.forEach((n, i) => {
    pair.set(n, b.inputs[i]);
    back.set(b.inputs[i], n);
  });
  const stack: [Node, Node][] = a.outputs.map((o, i) => [o.node, b.outputs[i].node]);
  while (stack.length) {
    const [x, y] = stack.pop()!;
    const seen = pair.get(x);
    if (seen !== undefined || back.has(y)) {
      if (seen !== y || back.get(y) !== x) return false;
      continue;
    }
    if (x.op !== y.op || x.op === 'input' || x.inputs.length !== y.inputs.length) return false;
    if (x.type.dtype !== y.type.dtype || !sameShape(x.type.shape, y.type.shape) || !sameValue(x.attrs, y.attrs)) return false;
    pair.set(x, y);
    back.set(y, x);
    x.inputs.forEach((xi, i) => stack.push([xi, y.inputs[i]]));
  }
  return true;
}

/** Every choice the cell attribute leaves open, narrowed by what the body holds. */
function candidates(body: Graph, cell: CellAttrs, recurrent: Node): { activations: CellMatch['activations']; transposed: boolean; clip?: number }[] {
  const ops = new Set<string>();
  let clip: number | undefined;
  const stack = body.outputs.map((o) => o.node);
  const seen = new Set<Node>();
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    ops.add(n.op);
    if (n.op === 'clip' && typeof n.attrs.max === 'number') clip = n.attrs.max;
    stack.push(...n.inputs);
  }
  const acts = ACTIVATIONS.filter((a) => ops.has(a));
  const G = GATE_COUNT[cell.kind];
  const H = cell.hiddenSize;
  const [r0, r1] = recurrent.type.shape;
  const layouts = [false, true].filter((t) => (t ? r0 === G * H && r1 === H : r0 === H && r1 === G * H));
  // An RNN uses f alone, a GRU f and g, an LSTM all three: unused ones are fixed at tanh.
  const used = { rnn: 1, gru: 2, lstm: 3 }[cell.kind];
  const out = [];
  for (const transposed of layouts) {
    for (let k = 0; k < acts.length ** used; k++) {
      const pick = (j: number) => (j < used ? acts[Math.floor(k / acts.length ** j) % acts.length] : 'tanh');
      out.push({ activations: { f: pick(0), g: pick(1), h: pick(2) }, transposed, clip });
    }
  }
  return out;
}

/** The cell a scan node runs, when its body is exactly cellBody's for its `cell` attribute; else undefined. */
export function matchCell(scan: Node): CellMatch | undefined {
  const a = scan.attrs as unknown as ScanAttrs;
  const cell = a.cell;
  const order = cell && gateOrderOf(cell);
  if (!cell || !order || a.sequenceCount !== 1 || scan.inputs.length < 3) return undefined;
  if ((cell.direction === 'reverse') !== a.reverse) return undefined;
  const roles = a.body.inputs.slice(2).map((n) => String(n.attrs.name));
  const known = roles[0] === 'recurrent' && roles.join() === ROLES.filter((r) => roles.includes(r)).join();
  if (!known) return undefined;
  const byRole = (r: string) => (roles.includes(r) ? scan.inputs[2 + roles.indexOf(r)] : undefined);
  const recurrent = byRole('recurrent')!;
  const recurrentBias = byRole('recurrentBias');
  const peepholes = byRole('peepholes');
  for (const c of candidates(a.body, cell, recurrent)) {
    const spec: CellSpec = {
      kind: cell.kind,
      units: cell.hiddenSize,
      order,
      emit: (op, inputs, attrs) => makeNode(op, inputs, attrs),
      recurrent,
      transposed: c.transposed,
      linearBeforeReset: cell.linearBeforeReset,
      recurrentBias,
      peepholes,
      activations: c.activations,
      clip: c.clip,
    };
    let rebuilt: Graph;
    try {
      rebuilt = cellBody(spec, a.body.inputs[1].type).body;
    } catch (e) {
      if (e instanceof KilnError) continue; // a claim whose shapes do not even fit is not this cell
      throw e;
    }
    if (sameBody(a.body, rebuilt)) return { cell, ...c, recurrent, recurrentBias, peepholes };
  }
  return undefined;
}
