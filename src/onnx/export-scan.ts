// ONNX export of the loop node `scan`: a recurrent cell the plan recognised (export-cell-plan.ts)
// becomes one ONNX LSTM/GRU/RNN node (sequence-first, as onnxruntime requires) plus the few nodes that rebuild the
// value Kiln's graph reads; any other scan becomes an ONNX Scan whose body is the scan's body,
// written by the same exporter as a subgraph (the invariants read from the outer scope).
import { makeNode } from '../ir/build.ts';
import type { Graph } from '../ir/graph.ts';
import type { ScanAttrs } from '../ir/ops/scan.ts';
import { GATE_COUNT } from '../ir/recurrent.ts';
import type { CellPlan } from './export-cell-plan.ts';
import { type Attribute, type ExportCtx, type ExportRule, floatAttr, graphAttr, intAttr, intsAttr, stringAttr, stringsAttr } from './export-context.ts';

const OP_TYPE = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' } as const;
const ONNX_ACTIVATION = { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu' } as Readonly<Record<string, string>>;
/** ONNX's default activations: the attribute is written only when they differ. */
const DEFAULTS = { rnn: ['Tanh'], lstm: ['Sigmoid', 'Tanh', 'Tanh'], gru: ['Sigmoid', 'Tanh'] };

/** Zeros of the initial carry's type [N, d…], N read from the first sequence at run time. */
function zerosOverBatch(c: ExportCtx, sequence: string): string {
  const carry = c.node.inputs[0].type;
  const batch = c.add('Slice', [c.add('Shape', [sequence]), c.ints64(`${c.layer}/starts`, [0]), c.ints64(`${c.layer}/ends`, [1]), c.ints64(`${c.layer}/axes`, [0])]);
  const shape = c.add('Concat', [batch, c.ints64(`${c.layer}/dims`, carry.shape.slice(1) as number[])], [intAttr('axis', 0)]);
  return c.add('Expand', [c.scalar(`${c.layer}/zero`, carry.dtype, 0), shape]);
}

/** A general scan as ONNX Scan (opset 9 on): sequences on axis 1, reverse as the scan directions. */
function writeScan(c: ExportCtx, a: ScanAttrs): string {
  const S = a.sequenceCount;
  let body: Graph = a.body;
  let sequences = c.x.slice(1, 1 + S);
  let axes = sequences.map(() => 1);
  if (S === 0) {
    // ONNX Scan counts its steps from its scan inputs: with none, a [T] tick the body ignores.
    const tick = makeNode('input', [], { name: 'tick', dtype: 'float32', shape: [] });
    body = { name: body.name, inputs: [body.inputs[0], tick, ...body.inputs.slice(1)], outputs: body.outputs };
    sequences = [c.initializer(`${c.layer}/tick`, 'float32', [a.steps], new Float32Array(a.steps))];
    axes = [0];
  }
  const invariants = c.x.slice(1 + S);
  const outer = [undefined, ...sequences.map(() => undefined), ...invariants];
  const attrs: Attribute[] = [graphAttr('body', c.subgraph(body, outer, a.stack ? [0, 0] : [0])), intAttr('num_scan_inputs', sequences.length), intsAttr('scan_input_axes', axes)];
  if (a.reverse) attrs.push(intsAttr('scan_input_directions', axes.map(() => 1)));
  if (a.stack) {
    attrs.push(intsAttr('scan_output_axes', [1]));
    // Reverse outputs are prepended, so the stacked carries stay indexed by time, as Kiln's.
    if (a.reverse) attrs.push(intsAttr('scan_output_directions', [1]));
  }
  const outs = c.addMany('Scan', [c.plan.zeroCarries.has(c.node) ? zerosOverBatch(c, sequences[0]) : c.x[0], ...sequences], attrs, a.stack ? 2 : 1);
  return c.existing(a.stack ? outs[1] : outs[0]);
}

/** A recognised cell as one ONNX recurrent node, and the value of Kiln's scan rebuilt from its outputs. */
function writeCell(c: ExportCtx, a: ScanAttrs, p: CellPlan): string {
  const { cell, activations, clip } = p.match;
  const H = cell.hiddenSize;
  const GH = GATE_COUNT[cell.kind] * H;
  const dtype = c.node.type.dtype;
  const lstm = cell.kind === 'lstm';
  const w = (role: string, dims: number[], data: ArrayLike<number>) => c.initializer(`${c.layer}/${role}`, dtype, dims, data);
  const axes = (v: number[]) => c.ints64(`${c.layer}/axes`, v);
  // onnxruntime runs recurrent nodes only sequence-first (layout 0; layout 1 is refused at load):
  // X [T, N, F], initial states and Y_h/Y_c [1, N, H], Y [T, 1, N, H].
  const X = p.sequenceFirst ? c.valueOf(p.x) : c.add('Transpose', [c.valueOf(p.x)], [intsAttr('perm', [1, 0, 2])]);
  const inputs = [X, w('W', [1, GH, p.inputSize], p.W), w('R', [1, GH, H], p.R), w('B', [1, 2 * GH], p.B), ''];
  if (p.initial) {
    // The packed carry [N, h|c] as ONNX's initial states.
    const part = (from: number) => (lstm ? c.add('Slice', [c.x[0], c.ints64(`${c.layer}/starts`, [from]), c.ints64(`${c.layer}/ends`, [from + H]), axes([1])]) : c.x[0]);
    inputs.push(c.add('Unsqueeze', [part(0), axes([0])]));
    if (lstm) inputs.push(c.add('Unsqueeze', [part(H), axes([0])]));
  } else inputs.push('', ...(lstm ? [''] : []));
  if (p.P) inputs.push(w('P', [1, 3 * H], p.P));
  while (inputs[inputs.length - 1] === '') inputs.pop();

  const names = (cell.kind === 'rnn' ? [activations.f] : lstm ? [activations.f, activations.g, activations.h] : [activations.f, activations.g]).map((op) => ONNX_ACTIVATION[op]);
  const attrs: Attribute[] = [intAttr('hidden_size', H), stringAttr('direction', cell.direction)];
  if (names.join() !== DEFAULTS[cell.kind].join()) attrs.push(stringsAttr('activations', names));
  if (clip !== undefined) attrs.push(floatAttr('clip', clip));
  if (cell.kind === 'gru' && cell.linearBeforeReset) attrs.push(intAttr('linear_before_reset', 1));
  const [Y, Yh, Yc] = c.addMany(OP_TYPE[cell.kind], inputs, attrs, lstm ? 3 : 2);
  const batchFirst = (t: string) => c.add('Transpose', [t], [intsAttr('perm', [1, 0, 2])]);
  const hs = () => batchFirst(c.add('Squeeze', [Y, axes([1])]));
  if (!lstm) return a.stack ? c.emit('Transpose', [c.add('Squeeze', [Y, axes([1])])], [intsAttr('perm', [1, 0, 2])]) : c.emit('Squeeze', [Yh, axes([0])]);
  if (!a.stack) return c.emit('Squeeze', [c.add('Concat', [Yh, Yc], [intAttr('axis', 2)]), axes([0])]);
  if (p.hOnly) return c.emit('Transpose', [c.add('Squeeze', [Y, axes([1])])], [intsAttr('perm', [1, 0, 2])]);
  // Every step's h beside c at the final step (zeros elsewhere): the plan checked nothing reads c at another step.
  const last = a.reverse ? 0 : a.steps - 1;
  const pads = c.ints64(`${c.layer}/pads`, [0, last, 0, 0, a.steps - 1 - last, 0]);
  return c.emit('Concat', [hs(), c.add('Pad', [batchFirst(Yc), pads])], [intAttr('axis', 2)]);
}

/** The export rule of `scan`. */
export const scanRule: ExportRule<ScanAttrs> = (c, a) => {
  const plan = c.plan.cells.get(c.node);
  return plan ? writeCell(c, a, plan) : writeScan(c, a);
};
