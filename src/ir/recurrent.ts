// The one RNN, LSTM and GRU cell, shared by the DSL layers (src/dsl/recurrent.ts) and the ONNX
// importer (src/onnx/rnn.ts): each step is one matmul of the state with the recurrent weights
// (all gates at once), slices for the gates, activations and elementwise math. Both callers get
// one `scan` per direction over that cell; the input projection of every step is computed by the
// caller (one matmul before the loop).
import { makeNode } from './build.ts';
import type { Graph } from './graph.ts';
import type { Node, TensorType } from './node.ts';
import type { OpName } from './ops/index.ts';

export type CellKind = 'rnn' | 'lstm' | 'gru';

/** Gates per cell: the G in the [*, G·units] weight layout. */
export const GATE_COUNT: Record<CellKind, number> = { rnn: 1, lstm: 4, gru: 3 };

/** A weight layout's gate order: where each gate's block of columns sits (in units of H). */
export interface GateOrder {
  /** LSTM: input, forget, cell candidate, output. */
  lstm: { i: number; f: number; c: number; o: number };
  /** GRU: update z, reset r, candidate h (the candidate is last in every layout). */
  gru: { z: number; r: number; h: number };
}

/** PyTorch (i,f,g,o / r,z,n), Keras (i,f,c,o / z,r,h) and ONNX (i,o,f,c / z,r,h) layouts. */
export const GATE_ORDERS: Record<'pytorch' | 'keras' | 'onnx', GateOrder> = {
  pytorch: { lstm: { i: 0, f: 1, c: 2, o: 3 }, gru: { r: 0, z: 1, h: 2 } },
  keras: { lstm: { i: 0, f: 1, c: 2, o: 3 }, gru: { z: 0, r: 1, h: 2 } },
  onnx: { lstm: { i: 0, o: 1, f: 2, c: 3 }, gru: { z: 0, r: 1, h: 2 } },
};

export type Emit = (op: OpName, inputs: readonly Node[], attrs?: Record<string, unknown>) => Node;

export interface UnrollSpec {
  kind: CellKind;
  units: number;
  steps: number;
  order: GateOrder;
  emit: Emit;
  /** The input projection of time `t`, biases included: [B, G·H]. */
  projection(t: number): Node;
  /** Recurrent weights, G·H columns: [H, G·H], or [G·H, H] when `transposed` (ONNX's R). */
  recurrent: Node;
  transposed: boolean;
  /** GRU with the linear transformation before the reset (PyTorch; Keras reset_after): h·R + Rb inside r ⊙ (…). */
  linearBeforeReset?: boolean;
  /** The recurrent bias [G·H] that such a GRU applies inside the reset (others fold it into the projection). */
  recurrentBias?: Node;
  /** LSTM peephole weights [3H] in ONNX's order (i, o, f). */
  peepholes?: Node;
  /** Gate activation (f), candidate activation (g), LSTM output activation (h): ONNX's f, g, h. */
  activations: { f: OpName; g: OpName; h: OpName };
  /** ONNX's clip: pre-activations are clipped to [-clip, clip]. */
  clip?: number;
  /** Initial states [B, H]; absent means zeros, which the first step then skips multiplying (no zero tensor is built). */
  h0?: Node;
  c0?: Node;
  /** Runs from the last step to the first. */
  reverse: boolean;
}

export interface Unrolled {
  /** The state after each time index (in time order, whatever the direction): [B, H] each; a scan's are built when first read. */
  readonly outputs: Node[];
  /** Every step's h at once, [B, T, H] (time on axis 1), when the steps are a scan: what `outputs` are slices of. */
  stacked?: Node;
  /** Final hidden state [B, H] (of the last step run: time 0 when reversed). */
  h: Node;
  /** Final cell state [B, H] (LSTM). */
  c?: Node;
}

/**
 * Runs the cell over `steps` steps and returns every state. When the projections are time slices
 * of one [R, T, G·H] tensor (or [T, R, G·H]), as both callers build them, the steps are one `scan`
 * node over one cell body (docs/design/time.md); otherwise the cell is unrolled step by step.
 */
export function unroll(s: UnrollSpec): Unrolled {
  const seq = projectionSequence(s);
  return seq ? scanned(s, seq) : unrolledSteps(s);
}

/** The [R, T, G·H] tensor whose time slices `s.projection(t)` are (reshape ∘ unit slice), if they are. */
function projectionSequence(s: UnrollSpec): Node | undefined {
  const p0 = s.projection(0);
  const sl = p0.op === 'reshape' ? p0.inputs[0] : undefined;
  if (!sl || sl.op !== 'slice' || p0.type.dtype === 'int32') return undefined;
  const a = sl.attrs as { starts: number[]; ends: number[]; axes?: number[]; steps?: number[] };
  const x = sl.inputs[0];
  const axis = a.axes?.length === 1 ? a.axes[0] : undefined;
  const unit = a.starts.length === 1 && a.starts[0] === 0 && a.ends[0] === 1 && (a.steps?.[0] ?? 1) === 1;
  if (!unit || x.type.shape.length !== 3 || (axis !== 0 && axis !== 1) || x.type.shape[axis] !== s.steps) return undefined;
  const seq = axis === 1 ? x : s.emit('transpose', [x], { perm: [1, 0, 2] });
  const [rows, , width] = seq.type.shape;
  const [pr, pw] = p0.type.shape;
  return p0.type.shape.length === 2 && pr === rows && pw === width ? seq : undefined;
}

/** The gate blocks' order as letters (LSTM i f c o, GRU z r h), for the scan's `cell` attribute. */
function gateOrderName(s: UnrollSpec): string {
  const gates: Record<string, number> = s.kind === 'lstm' ? s.order.lstm : s.kind === 'gru' ? s.order.gru : {};
  return Object.keys(gates).sort((x, y) => gates[x] - gates[y]).join('');
}

/** One scan over the cell body: every state is a slice of its stacked output [R, T, W]. */
function scanned(s: UnrollSpec, seq: Node): Unrolled {
  const { emit, units: H, steps: T } = s;
  const slice = seq.type;
  const sliceT: TensorType = { dtype: slice.dtype, shape: [slice.shape[0], slice.shape[2]] };
  const { body, invariants } = cellBody(s, sliceT);
  const rows = slice.shape[0];
  const W = carryWidth(s.kind, H);
  const zeros = (width: number) => emit('expand', [emit('const', [], { dtype: slice.dtype, shape: [], values: [0] })], { shape: [rows, width] });
  const lstm = s.kind === 'lstm';
  const init = lstm ? (s.h0 || s.c0 ? emit('concat', [s.h0 ?? zeros(H), s.c0 ?? zeros(H)], { axis: 1 }) : zeros(W)) : (s.h0 ?? zeros(W));
  const cell = { kind: s.kind, hiddenSize: H, gateOrder: gateOrderName(s), linearBeforeReset: !!s.linearBeforeReset, direction: s.reverse ? 'reverse' : 'forward' };
  const y = emit('scan', [init, seq, ...invariants], { body, steps: T, reverse: s.reverse, sequenceCount: 1, stack: true, cell });
  const target = (d: (number | 'N')[]) => (d[0] === 'N' ? [-1, ...d.slice(1)] : d);
  const part = (t: Node, from: number, to: number) => emit('slice', [t], { starts: [from], ends: [to], axes: [2], steps: [1] });
  // h of every step, [R, T, H]: its unit time slices restack to it (compiler/passes/simplify.ts).
  const hs = lstm ? part(y, 0, H) : y;
  const at = (t: Node, k: number) => emit('reshape', [emit('slice', [t], { starts: [k], ends: [k + 1], axes: [1], steps: [1] })], { shape: target([rows, H]) });
  const last = s.reverse ? 0 : T - 1;
  // The final states straight from the last step's carry (no copy of every step's h first); an
  // RNN's or GRU's final h is the last step's slice, the same node `outputs` holds.
  const final = (from: number) => emit('reshape', [emit('slice', [y], { starts: [last, from], ends: [last + 1, from + H], axes: [1, 2], steps: [1, 1] })], { shape: target([rows, H]) });
  const h = lstm ? final(0) : at(hs, last);
  // The per-step slices are made only for a caller that asks for them (the DSL restacks them;
  // the ONNX importer reads `stacked`), so a long sequence makes no T nodes it never reads.
  let outputs: Node[] | undefined;
  const everyStep = () => (outputs ??= Array.from({ length: T }, (_, k) => (!lstm && k === last ? h : at(hs, k))));
  return {
    get outputs() {
      return everyStep();
    },
    stacked: hs,
    h,
    c: lstm ? final(H) : undefined,
  };
}

/** The cell built once per step: the form for projections that are not slices of one tensor. */
function unrolledSteps(s: UnrollSpec): Unrolled {
  const { emit, units: H } = s;
  const slice = (t: Node, axis: number, start: number, end: number): Node => emit('slice', [t], { starts: [start], ends: [end], axes: [axis], steps: [1] });
  const gate = (g: number, src: Node) => slice(src, 1, g * H, (g + 1) * H);
  const clipped = (t: Node): Node => (s.clip !== undefined ? emit('clip', [t], { min: -s.clip, max: s.clip }) : t);
  const act = (op: OpName, t: Node): Node => emit(op, [clipped(t)]);
  // The recurrent product of a block of gate columns [from, to) (in units of H).
  const rAxis = s.transposed ? 0 : 1;
  const rBlock = (from: number, to: number): Node => (from === 0 && to === GATE_COUNT[s.kind] ? s.recurrent : slice(s.recurrent, rAxis, from * H, to * H));
  const times = (h: Node, from: number, to: number): Node => emit('matmul', [h, rBlock(from, to)], { transB: s.transposed });
  const P = s.peepholes;
  const peep = (k: number, state: Node, z: Node) => (P ? emit('add', [z, emit('mul', [slice(P, 0, k * H, (k + 1) * H), state])]) : z);

  // Undefined while the state is still the implicit zero.
  let h: Node | undefined = s.h0;
  let c: Node | undefined = s.c0;
  const outputs = new Array<Node>(s.steps);
  for (let k = 0; k < s.steps; k++) {
    const t = s.reverse ? s.steps - 1 - k : k;
    const xt = s.projection(t);
    if (s.kind === 'rnn') {
      h = act(s.activations.f, h ? emit('add', [xt, times(h, 0, 1)]) : xt);
    } else if (s.kind === 'lstm') {
      const g = s.order.lstm;
      const pre = h ? emit('add', [xt, times(h, 0, 4)]) : xt;
      const iG = act(s.activations.f, c ? peep(0, c, gate(g.i, pre)) : gate(g.i, pre));
      const cG = act(s.activations.g, gate(g.c, pre));
      const fresh = emit('mul', [iG, cG]);
      // With a zero cell state the forget gate has nothing to forget.
      c = c ? emit('add', [emit('mul', [act(s.activations.f, peep(2, c, gate(g.f, pre))), c]), fresh]) : fresh;
      const oG = act(s.activations.f, peep(1, c, gate(g.o, pre)));
      h = emit('mul', [oG, emit(s.activations.h, [c])]);
    } else {
      const g = s.order.gru;
      let hh: Node;
      let z: Node;
      let r: Node;
      if (s.linearBeforeReset) {
        // One product for all three gates; the recurrent bias stays inside, as r ⊙ (h·Rh + Rbh).
        let hr = h ? times(h, 0, 3) : undefined;
        if (s.recurrentBias) hr = hr ? emit('add', [hr, s.recurrentBias]) : s.recurrentBias;
        const zr = hr ? emit('add', [xt, hr]) : xt;
        z = act(s.activations.f, gate(g.z, zr));
        r = act(s.activations.f, gate(g.r, zr));
        hh = hr ? emit('add', [gate(g.h, xt), emit('mul', [r, hr.type.shape.length === 1 ? slice(hr, 0, g.h * H, (g.h + 1) * H) : gate(g.h, hr)])]) : gate(g.h, xt);
      } else {
        // The candidate's product needs r first: z and r (the first two blocks) take one product.
        const zr = h ? emit('add', [slice(xt, 1, 0, 2 * H), times(h, 0, 2)]) : xt;
        z = act(s.activations.f, gate(g.z, zr));
        r = act(s.activations.f, gate(g.r, zr));
        hh = h ? emit('add', [gate(g.h, xt), times(emit('mul', [r, h]), 2, 3)]) : gate(g.h, xt);
      }
      const hTilde = act(s.activations.g, hh);
      // (1 − z) ⊙ h̃ + z ⊙ h  =  h̃ + z ⊙ (h − h̃)
      h = emit('add', [hTilde, emit('mul', [z, h ? emit('sub', [h, hTilde]) : emit('neg', [hTilde])])]);
    }
    outputs[t] = h;
  }
  return { outputs, h: h!, c };
}

/** Carry width per row: h, or h and c side by side (LSTM) on the last axis. */
export const carryWidth = (kind: CellKind, H: number): number => (kind === 'lstm' ? 2 * H : H);

/** What a cell's body needs: the spec without its time (steps, projections, initial states, direction). */
export type CellSpec = Omit<UnrollSpec, 'steps' | 'projection' | 'h0' | 'c0' | 'reverse'>;

export interface CellBody {
  /** Inputs: carry [R, W] (W = carryWidth), projection slice [R, G·H], then `invariants`' values. */
  body: Graph;
  /** The nodes outside the body that feed its invariant inputs, in order. */
  invariants: Node[];
}

/**
 * The cell as a scan body: one step of `unroll` on a carry that packs h (and c for an LSTM) on
 * its last axis, so a scan needs one carry. `rows` is the batch dimension (the batch or a literal).
 */
export function cellBody(s: CellSpec, slice: TensorType): CellBody {
  const H = s.units;
  const rows = slice.shape[0];
  const leaf = (name: string, t: TensorType) => makeNode('input', [], { name, dtype: t.dtype, shape: [...t.shape] });
  const carry = leaf('carry', { dtype: slice.dtype, shape: [rows, carryWidth(s.kind, H)] });
  const x = leaf('x', slice);
  const all: [string, Node | undefined][] = [['recurrent', s.recurrent], ['recurrentBias', s.recurrentBias], ['peepholes', s.peepholes]];
  const roles = all.filter((r): r is [string, Node] => r[1] !== undefined);
  const invariants = roles.map(([, n]) => n);
  const leaves = roles.map(([name, n]) => leaf(name, n.type));
  const inner = (n: Node | undefined) => (n ? leaves[invariants.indexOf(n)] : undefined);
  const part = (from: number, to: number) => s.emit('slice', [carry], { starts: [from], ends: [to], axes: [1], steps: [1] });
  const lstm = s.kind === 'lstm';
  const step = unroll({
    ...s,
    steps: 1,
    projection: () => x,
    recurrent: inner(s.recurrent)!,
    recurrentBias: inner(s.recurrentBias),
    peepholes: inner(s.peepholes),
    h0: lstm ? part(0, H) : carry,
    c0: lstm ? part(H, 2 * H) : undefined,
    reverse: false,
  });
  const out = lstm ? s.emit('concat', [step.h, step.c!], { axis: 1 }) : step.h;
  return { body: { name: `${s.kind}_cell`, inputs: [carry, x, ...leaves], outputs: [{ name: 'carry', node: out }] }, invariants };
}
