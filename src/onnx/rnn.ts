// RNN, LSTM and GRU: one matmul for the input projection of every step, then one `scan` per
// direction over the cell of src/ir/recurrent.ts, the same the DSL layers use (per step one matmul
// with the recurrence weights, gate slices, activations). The scan carries the `cell` attribute,
// so the ONNX exporter writes an imported node back as the same LSTM/GRU/RNN node; the graph, and
// the compiled module, do not grow with the sequence length.
import type { DType } from '../ir/dtype.ts';
import type { Node } from '../ir/node.ts';
import type { OpName } from '../ir/ops/index.ts';
import { formatBytes, getLimits, LimitError } from '../ir/limits.ts';
import { MAX_ELEMENTS } from '../ir/shape.ts';
import { carryWidth, GATE_ORDERS, unroll, type CellKind, type Unrolled } from '../ir/recurrent.ts';
import type { OnnxContext, OnnxOp } from './context.ts';

type Kind = 'RNN' | 'LSTM' | 'GRU';

const GATES: Record<Kind, number> = { RNN: 1, LSTM: 4, GRU: 3 };
/** The default activations of one direction: gate activation(s) first, as ONNX lists them. */
const DEFAULT_ACTIVATIONS: Record<Kind, string[]> = { RNN: ['Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'] };
const ACTIVATIONS: Readonly<Record<string, OpName>> = { Sigmoid: 'sigmoid', Tanh: 'tanh', Relu: 'relu' };

const shapeOf = (n: Node): number[] => n.type.shape as number[];

/** Refuses, before anything is built, input projections or states too large to hold. */
function checkRecurrentValues(c: OnnxContext, values: [string, number][], bytesPerElement: number): void {
  const { maxMemory } = getLimits();
  for (const [what, elements] of values) {
    const bytes = elements * bytesPerElement;
    if (elements > MAX_ELEMENTS || bytes > maxMemory) {
      throw new LimitError(`${c.label}: ${what} would take ${formatBytes(bytes)}, over the ${formatBytes(maxMemory)} limit (raise it with --max-memory, or the maxMemory limit in the API)`);
    }
  }
}

/**
 * One direction's Y, [S, 1, B, H] (batch first: [B, S, 1, H]): the scan's stacked h [B, S, H]
 * as it is, or with time and batch swapped; step by step only if the cell was not a scan.
 */
function everyStep(run: Unrolled, S: number, B: number, H: number, bf: boolean, emit: OnnxContext['emit']): Node {
  const shape = bf ? [B, S, 1, H] : [S, 1, B, H];
  if (run.stacked) return emit('reshape', [bf ? run.stacked : emit('transpose', [run.stacked], { perm: [1, 0, 2] })], { shape });
  const steps = run.outputs.map((h) => emit('reshape', [h], { shape: bf ? [B, 1, 1, H] : [1, 1, B, H] }));
  return S === 1 ? steps[0] : emit('concat', steps, { axis: bf ? 1 : 0 });
}

export const recurrent = (kind: Kind): OnnxOp => (c: OnnxContext) => {
  const emit = c.emit;
  const attr = (name: string) => c.attr(name);
  const hidden = attr('hidden_size');
  const direction = typeof attr('direction') === 'string' ? (attr('direction') as string) : 'forward';
  const layout = typeof attr('layout') === 'number' ? (attr('layout') as number) : 0;
  const clip = attr('clip');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') return c.unsupported(`direction ${JSON.stringify(direction)} is not supported`);
  if (layout !== 0 && layout !== 1) return c.unsupported(`layout ${layout} is not supported`);
  if (kind === 'LSTM' && typeof attr('input_forget') === 'number' && attr('input_forget') !== 0) c.unsupported(`input_forget is not supported`);
  if (attr('activation_alpha') !== undefined || attr('activation_beta') !== undefined) c.unsupported(`activation_alpha/beta are not supported`);
  const numDir = direction === 'bidirectional' ? 2 : 1;
  const perDir = DEFAULT_ACTIVATIONS[kind].length;
  const acts = (attr('activations') as string[] | undefined) ?? [];
  if (acts.length !== 0 && acts.length !== perDir * numDir) c.unsupported(`expected ${perDir * numDir} activations, got ${acts.length}`);
  const actOf = (d: number, k: number): OpName => {
    const name = acts.length ? acts[d * perDir + k] : DEFAULT_ACTIVATIONS[kind][k];
    // Own keys only: the name comes from the file, and 'constructor' must not find Object's.
    const op = Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
    if (!op) c.unsupported(`activation ${JSON.stringify(name)} is not supported`);
    return op;
  };
  const linearBeforeReset = kind === 'GRU' && attr('linear_before_reset') !== undefined && attr('linear_before_reset') !== 0;

  const x = c.input(0);
  if (shapeOf(x).length !== 3) c.unsupported(`X must be 3-D`);
  // layout 1 (batch first) is scanned as it comes, never transposing the batch: so a symbolic
  // batch (src/onnx/batch.ts) stays first in every node, and the model generalises to any batch.
  const bf = layout === 1;
  const [S, B, I] = bf ? [shapeOf(x)[1], shapeOf(x)[0], shapeOf(x)[2]] : shapeOf(x);
  const timeAxis = bf ? 1 : 0;
  const dirAxis = bf ? 1 : 0;
  const W = c.input(1);
  const R = c.input(2);
  const G = GATES[kind];
  const H = typeof hidden === 'number' ? hidden : shapeOf(R)[2];
  const cell: CellKind = kind === 'RNN' ? 'rnn' : kind === 'LSTM' ? 'lstm' : 'gru';
  const dtype: DType = x.type.dtype;
  if (dtype !== 'float32' && dtype !== 'float64') c.unsupported(`X must be floating-point`);
  if (shapeOf(W).join() !== [numDir, G * H, I].join() || shapeOf(R).join() !== [numDir, G * H, H].join()) c.unsupported(`W or R has an unexpected shape`);
  if (S === 0 || B === 0) c.unsupported(`empty sequences are not supported`);
  const W2 = carryWidth(cell, H);
  checkRecurrentValues(
    c,
    [
      [`the input projections [${S * B}, ${G * H}]`, S * B * G * H],
      [`the states of every step [${B}, ${S}, ${W2}]`, S * B * W2],
      [`the outputs [${S}, ${numDir}, ${B}, ${H}]`, S * numDir * B * H],
    ],
    dtype === 'float64' ? 8 : 4,
  );
  if (c.has(4)) {
    const lens = c.constant(4);
    if (!lens) return c.unsupported(`sequence_lens must be a constant`);
    if (Array.from(lens.data as ArrayLike<number>).some((v) => v !== S)) c.unsupported(`sequence_lens shorter than the sequence are not supported`);
  }
  const stateIn = (i: number): Node | undefined => {
    if (!c.has(i)) return undefined;
    const s = c.input(i);
    return s;
  };
  const h0 = stateIn(5);
  const c0 = kind === 'LSTM' ? stateIn(6) : undefined;

  const slice = (t: Node, axis: number, start: number, end: number): Node => emit('slice', [t], { starts: [start], ends: [end], axes: [axis], steps: [1] });
  const reshape = (t: Node, shape: number[]): Node => emit('reshape', [t], { shape });

  const Ys: Node[] = [];
  const Hs: Node[] = [];
  const Cs: Node[] = [];
  for (let d = 0; d < numDir; d++) {
    const Wd = reshape(slice(W, 0, d, d + 1), [G * H, I]);
    const Rd = reshape(slice(R, 0, d, d + 1), [G * H, H]);
    let Wb: Node | undefined;
    let Rb: Node | undefined;
    if (c.has(3)) {
      const Bd = reshape(slice(c.input(3), 0, d, d + 1), [2 * G * H]);
      Wb = slice(Bd, 0, 0, G * H);
      Rb = slice(Bd, 0, G * H, 2 * G * H);
    }
    // Input projections of every step at once: [S, B, G*H].
    let xw = emit('matmul', [x, Wd], { transB: true });
    // The recurrence bias joins the input projection except where GRU applies it inside the reset.
    let bias = Wb;
    if (Wb && Rb && !(kind === 'GRU' && linearBeforeReset)) bias = emit('add', [Wb, Rb]);
    if (bias) xw = emit('add', [xw, bias]);
    const run = unroll({
      kind: cell,
      units: H,
      steps: S,
      order: GATE_ORDERS.onnx,
      emit,
      projection: (t) => reshape(slice(xw, timeAxis, t, t + 1), [B, G * H]),
      recurrent: Rd,
      transposed: true,
      linearBeforeReset,
      recurrentBias: linearBeforeReset ? Rb : undefined,
      peepholes: kind === 'LSTM' && c.has(7) ? reshape(slice(c.input(7), 0, d, d + 1), [3 * H]) : undefined,
      activations: { f: actOf(d, 0), g: actOf(d, Math.min(1, perDir - 1)), h: actOf(d, perDir - 1) },
      clip: typeof clip === 'number' ? clip : undefined,
      h0: h0 ? reshape(slice(h0, dirAxis, d, d + 1), [B, H]) : undefined,
      c0: c0 ? reshape(slice(c0, dirAxis, d, d + 1), [B, H]) : undefined,
      reverse: direction === 'reverse' || d === 1,
    });
    Ys.push(everyStep(run, S, B, H, bf, emit));
    Hs.push(reshape(run.h, bf ? [B, 1, H] : [1, B, H]));
    if (run.c) Cs.push(reshape(run.c, bf ? [B, 1, H] : [1, B, H]));
  }
  const cat = (parts: Node[], axis: number) => (parts.length === 1 ? parts[0] : emit('concat', parts, { axis }));
  // [S, D, B, H] and [D, B, H]; batch first: [B, S, D, H] and [B, D, H].
  const Y = cat(Ys, bf ? 2 : 1);
  const Yh = cat(Hs, dirAxis);
  const Yc = Cs.length ? cat(Cs, dirAxis) : undefined;
  return Yc ? [Y, Yh, Yc] : [Y, Yh];
};
