// ONNX export of the loop node `scan`: a recurrent cell the plan recognised (export-cell-plan.ts)
// becomes an ONNX LSTM/GRU/RNN node (export-cell.ts); any other scan becomes an ONNX Scan whose
// body is the scan's body, written by the same exporter as a subgraph (the invariants read from
// the outer scope).
import { makeNode } from '../ir/build.ts';
import type { Graph } from '../ir/graph.ts';
import type { ScanAttrs } from '../ir/ops/scan.ts';
import { writeCell } from './export-cell.ts';
import { type Attribute, type ExportCtx, type ExportRule, graphAttr, intAttr, intsAttr } from './export-context.ts';

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

/** The export rule of `scan`. */
export const scanRule: ExportRule<ScanAttrs> = (c, a) => {
  const plan = c.plan.cells.get(c.node);
  return plan ? writeCell(c, a, plan) : writeScan(c, a);
};
