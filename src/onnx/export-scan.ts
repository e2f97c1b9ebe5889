// ONNX export of the loop node `scan`: a recurrent cell the plan recognised (export-cell-plan.ts)
// becomes one ONNX LSTM/GRU/RNN node (batch-first, layout 1) plus the few nodes that rebuild the
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
  const outs = c.addMany('Scan', [c.x[0], ...sequences], attrs, a.stack ? 2 : 1);
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
  const inputs = [c.valueOf(p.x), w('W', [1, GH, p.inputSize], p.W), w('R', [1, GH, H], p.R), w('B', [1, 2 * GH], p.B), ''];
  if (p.initial) {
    // The packed carry [N, h|c] as ONNX's batch-first initial states [N, 1, H].
    const part = (from: number) => (lstm ? c.add('Slice', [c.x[0], c.ints64(`${c.layer}/starts`, [from]), c.ints64(`${c.layer}/ends`, [from + H]), axes([1])]) : c.x[0]);
    inputs.push(c.add('Unsqueeze', [part(0), axes([1])]));
    if (lstm) inputs.push(c.add('Unsqueeze', [part(H), axes([1])]));
  } else inputs.push('', ...(lstm ? [''] : []));
  if (p.P) inputs.push(w('P', [1, 3 * H], p.P));
  while (inputs[inputs.length - 1] === '') inputs.pop();

  const names = (cell.kind === 'rnn' ? [activations.f] : lstm ? [activations.f, activations.g, activations.h] : [activations.f, activations.g]).map((op) => ONNX_ACTIVATION[op]);
  const attrs: Attribute[] = [intAttr('hidden_size', H), stringAttr('direction', cell.direction), intAttr('layout', 1)];
  if (names.join() !== DEFAULTS[cell.kind].join()) attrs.push(stringsAttr('activations', names));
  if (clip !== undefined) attrs.push(floatAttr('clip', clip));
  if (cell.kind === 'gru' && cell.linearBeforeReset) attrs.push(intAttr('linear_before_reset', 1));
  // Batch first: Y [N, T, 1, H], Y_h and Y_c [N, 1, H].
  const [Y, Yh, Yc] = c.addMany(OP_TYPE[cell.kind], inputs, attrs, lstm ? 3 : 2);
  if (!lstm) return a.stack ? c.emit('Squeeze', [Y, axes([2])]) : c.emit('Squeeze', [Yh, axes([1])]);
  if (!a.stack) return c.emit('Squeeze', [c.add('Concat', [Yh, Yc], [intAttr('axis', 2)]), axes([1])]);
  // Every step's h beside c at the final step (zeros elsewhere): the plan checked nothing reads c at another step.
  const last = a.reverse ? 0 : a.steps - 1;
  const pads = c.ints64(`${c.layer}/pads`, [0, last, 0, 0, a.steps - 1 - last, 0]);
  return c.emit('Concat', [c.add('Squeeze', [Y, axes([2])]), c.add('Pad', [Yc, pads])], [intAttr('axis', 2)]);
}

/** The export rule of `scan`. */
export const scanRule: ExportRule<ScanAttrs> = (c, a) => {
  const plan = c.plan.cells.get(c.node);
  return plan ? writeCell(c, a, plan) : writeScan(c, a);
};
