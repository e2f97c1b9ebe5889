// A recurrent scan the plan recognised (export-cell-plan.ts) written as an ONNX LSTM/GRU/RNN node,
// and the value of Kiln's scan rebuilt from the node's outputs. A forward and a reverse scan the
// plan paired (a bidirectional layer) share one node with direction "bidirectional", as ONNX's own
// files hold them. The node is written sequence-first (layout 0): onnxruntime refuses layout 1 when
// a session is created, so X, Y and the states are transposed around it.
import type { ScanAttrs } from '../ir/ops/scan.ts';
import { GATE_COUNT } from '../ir/recurrent.ts';
import type { CellOutputs, CellPlan } from './export-cell-plan.ts';
import { type Attribute, type ExportCtx, floatAttr, intAttr, intsAttr, stringAttr, stringsAttr } from './export-context.ts';

const OP_TYPE = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' } as const;
const ONNX_ACTIVATION = { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu' } as Readonly<Record<string, string>>;
/** ONNX's default activations per direction: the attribute is written only when they differ. */
const DEFAULTS = { rnn: ['Tanh'], lstm: ['Sigmoid', 'Tanh', 'Tanh'], gru: ['Sigmoid', 'Tanh'] };

const concat = (parts: readonly ArrayLike<number>[]): Float64Array => Float64Array.from(parts.flatMap((p) => Array.from(p)));

/**
 * One ONNX recurrent node for one direction, or for a forward and a reverse plan together; the
 * outputs of each plan's direction: Y [T, 1, N, H], Y_h and Y_c [1, N, H].
 */
function recurrentNode(c: ExportCtx, plans: readonly CellPlan[]): CellOutputs[] {
  const p = plans[0];
  const { cell, clip } = p.match;
  const D = plans.length;
  const H = cell.hiddenSize;
  const GH = GATE_COUNT[cell.kind] * H;
  const dtype = c.node.type.dtype;
  const lstm = cell.kind === 'lstm';
  const w = (role: string, dims: number[], data: ArrayLike<number>) => c.initializer(`${c.layer}/${role}`, dtype, dims, data);
  const axes = (v: number[]) => c.ints64(`${c.layer}/axes`, v);
  const X = p.sequenceFirst ? c.valueOf(p.x) : c.add('Transpose', [c.valueOf(p.x)], [intsAttr('perm', [1, 0, 2])]);
  const inputs = [X, w('W', [D, GH, p.inputSize], concat(plans.map((q) => q.W))), w('R', [D, GH, H], concat(plans.map((q) => q.R))), w('B', [D, 2 * GH], concat(plans.map((q) => q.B))), ''];
  // Paired plans start from zero (the plan pairs only those); one plan's given carry [N, h|c] is sliced into its states.
  if (p.initial) {
    const part = (from: number) => (lstm ? c.add('Slice', [c.x[0], c.ints64(`${c.layer}/starts`, [from]), c.ints64(`${c.layer}/ends`, [from + H]), axes([1])]) : c.x[0]);
    inputs.push(c.add('Unsqueeze', [part(0), axes([0])]));
    if (lstm) inputs.push(c.add('Unsqueeze', [part(H), axes([0])]));
  } else inputs.push('', ...(lstm ? [''] : []));
  if (p.P) inputs.push(w('P', [D, 3 * H], concat(plans.map((q) => q.P!))));
  while (inputs[inputs.length - 1] === '') inputs.pop();

  const names = plans.flatMap(({ match: { activations: f } }) => (cell.kind === 'rnn' ? [f.f] : lstm ? [f.f, f.g, f.h] : [f.f, f.g]).map((op) => ONNX_ACTIVATION[op]));
  const attrs: Attribute[] = [intAttr('hidden_size', H), stringAttr('direction', D === 2 ? 'bidirectional' : cell.direction)];
  if (names.join() !== plans.flatMap(() => DEFAULTS[cell.kind]).join()) attrs.push(stringsAttr('activations', names));
  if (clip !== undefined) attrs.push(floatAttr('clip', clip));
  if (cell.kind === 'gru' && cell.linearBeforeReset) attrs.push(intAttr('linear_before_reset', 1));
  const [Y, Yh, Yc] = c.addMany(OP_TYPE[cell.kind], inputs, attrs, lstm ? 3 : 2);
  if (D === 1) return [{ Y: () => Y, Yh: () => Yh, Yc: () => Yc! }];
  // A direction's part of an output, sliced out when first read (nothing for the parts no reader needs).
  const pick = (t: string, axis: number, d: number) => {
    let part: string | undefined;
    return () => (part ??= c.add('Slice', [t, c.ints64(`${c.layer}/starts`, [d]), c.ints64(`${c.layer}/ends`, [d + 1]), axes([axis])]));
  };
  return [0, 1].map((d) => ({ Y: pick(Y, 1, d), Yh: pick(Yh, 0, d), Yc: pick(Yc ?? '', 0, d) }));
}

/** The value of Kiln's scan from its direction's outputs: the stacked or final carry, h (and c packed beside it). */
function scanValue(c: ExportCtx, a: ScanAttrs, p: CellPlan, o: CellOutputs): string {
  const axes = (v: number[]) => c.ints64(`${c.layer}/axes`, v);
  const batchFirst = (t: string) => c.add('Transpose', [t], [intsAttr('perm', [1, 0, 2])]);
  const everyH = () => c.emit('Transpose', [c.add('Squeeze', [o.Y(), axes([1])])], [intsAttr('perm', [1, 0, 2])]);
  if (p.match.cell.kind !== 'lstm') return a.stack ? everyH() : c.emit('Squeeze', [o.Yh(), axes([0])]);
  if (!a.stack) return c.emit('Squeeze', [c.add('Concat', [o.Yh(), o.Yc()], [intAttr('axis', 2)]), axes([0])]);
  if (p.hOnly) return everyH();
  // Every step's h beside c at the final step (zeros elsewhere): the plan checked nothing reads c at another step.
  const last = a.reverse ? 0 : a.steps - 1;
  const pads = c.ints64(`${c.layer}/pads`, [0, last, 0, 0, a.steps - 1 - last, 0]);
  return c.emit('Concat', [batchFirst(c.add('Squeeze', [o.Y(), axes([1])])), c.add('Pad', [batchFirst(o.Yc()), pads])], [intAttr('axis', 2)]);
}

/** Writes a planned cell scan: its recurrent node (or, paired, the one it shares) and its value. */
export function writeCell(c: ExportCtx, a: ScanAttrs, p: CellPlan): string {
  const partner = c.plan.pairs.get(c.node);
  let outputs = c.plan.written.get(c.node);
  if (!outputs && partner) {
    const forward = p.match.cell.direction === 'forward' ? c.node : partner;
    const reverse = forward === c.node ? partner : c.node;
    const [f, r] = recurrentNode(c, [c.plan.cells.get(forward)!, c.plan.cells.get(reverse)!]);
    c.plan.written.set(forward, f);
    c.plan.written.set(reverse, r);
    outputs = forward === c.node ? f : r;
  }
  return scanValue(c, a, p, outputs ?? recurrentNode(c, [p])[0]);
}
