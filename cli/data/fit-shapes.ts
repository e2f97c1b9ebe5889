// Checks a data set's inputs and labels against the model's input, output and loss, and plans the label form the loss reads.
import type { LossSpec } from '../../compiler/train/losses.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { formatShape } from '../../src/ir/shape.ts';
import { formatDims } from './numeric.ts';
import { isIntDtype, type RawSplit } from './raw.ts';

/** The model's one input: its name, sample dims (after the batch) and size. */
export function modelInput(graph: Graph): { name: string; dims: number[]; size: number; shape: string; dtype: string } {
  if (graph.inputs.length !== 1) throw new KilnError(`kiln train feeds one input; model '${graph.name}' takes ${graph.inputs.length}`);
  const input = graph.inputs[0];
  const dims = input.type.shape.slice(1).map(Number);
  return { name: String(input.attrs.name), dims, size: dims.reduce((a, b) => a * b, 1), shape: formatShape(input.type.shape), dtype: input.type.dtype };
}

const squeeze = (d: readonly number[]) => d.filter((v) => v !== 1);

/**
 * How a split's inputs reach the model: as they are (same dims, or the same values up to
 * dimensions of 1 or a flat row), transposed from [C, H, W] to [H, W, C] (channels-first files, a
 * channels-last model), or an error naming the file, its shape and dtype and the model input's.
 */
export function inputPlan(graph: Graph, split: RawSplit, channelsFirst: boolean): { transpose?: [number, number, number] } {
  const m = modelInput(graph);
  const dims = split.xShape;
  const size = dims.reduce((a, b) => a * b, 1);
  const holds = `${split.xName} holds ${split.xDtype}${formatDims([split.x.count, ...dims])}`;
  // Token ids must arrive as integers: a float read into an int32 batch would be cut silently.
  if (m.dtype === 'int32' && !isIntDtype(split.xDtype)) throw new KilnError(`${holds} but model '${graph.name}' input '${m.name}' takes int32 ${m.shape} (integer ids, e.g. tokens): save the inputs as integers`);
  if (size === m.size) {
    const same = formatDims(squeeze(dims)) === formatDims(squeeze(m.dims)) || dims.length <= 1 || m.dims.length <= 1;
    if (same) return {};
    const [c, h, w] = dims;
    if (channelsFirst && dims.length === 3 && m.dims.length === 3 && m.dims[0] === h && m.dims[1] === w && m.dims[2] === c) return { transpose: [c, h, w] };
  }
  const per = (n: number) => `(${n} values per sample)`;
  throw new KilnError(`${holds} ${per(size)} but model '${graph.name}' input '${m.name}' takes ${m.shape} ${per(m.size)}`);
}

/**
 * How labels reach the loss: class ids (int32; `positions` of them per sample for a sequence
 * output [N, …, classes], e.g. one per token), one-hot rows of `classes`, or float rows as they are.
 */
export type LabelPlan = { kind: 'ids'; classes: number; positions: number } | { kind: 'oneHot'; classes: number } | { kind: 'rows'; width: number };

/** The label form `loss` reads from this split's labels, or an error naming the labels file and the model's output. */
export function labelPlan(graph: Graph, loss: LossSpec, split: RawSplit): LabelPlan {
  if (graph.outputs.length !== 1) throw new KilnError(`kiln train trains one output; model '${graph.name}' has ${graph.outputs.length}`);
  const out = graph.outputs[0].node.type.shape;
  const width = Number(out.length > 1 ? out[out.length - 1] : 1);
  const ids = isIntDtype(split.yDtype) && (split.yShape.length === 0 || (split.yShape.length === 1 && split.yShape[0] === 1));
  const labels = `${split.yName} holds ${split.yDtype}${formatDims([split.y.count, ...split.yShape])}`;
  const outText = `model '${graph.name}' outputs ${formatShape(out)}`;
  if (loss.kind === 'sparseCategoricalCrossEntropy') {
    // A sequence output [N, P…, classes] takes one id per position: P… values per sample.
    const positions = out.slice(1, -1).reduce<number>((a, d) => a * Number(d), 1);
    const perSample = split.yShape.reduce((a, b) => a * b, 1);
    if (positions > 1 && isIntDtype(split.yDtype) && perSample === positions) return { kind: 'ids', classes: width, positions };
    const want = positions > 1 ? `${positions} integer class ids per sample (one per position)` : 'one integer class id per sample';
    if (!ids || positions > 1) throw new KilnError(`${labels} but the loss ${loss.kind} takes ${want} (${outText}); for rows of targets pass --loss categoricalCrossEntropy or mse`);
    return { kind: 'ids', classes: width, positions: 1 };
  }
  if (ids && width > 1) return { kind: 'oneHot', classes: width };
  const rowWidth = split.yShape.reduce((a, b) => a * b, 1);
  if (rowWidth !== width) throw new KilnError(`${labels} but ${outText}: the loss ${loss.kind} needs ${width} target value${width === 1 ? '' : 's'} per sample`);
  return { kind: 'rows', width };
}

/** Throws unless every class id read from `y` lies in [0, classes) (checked once, before training). */
export function checkClassIds(split: RawSplit, classes: number): void {
  const row = new Int32Array(split.y.width);
  for (let i = 0; i < split.y.count; i++) {
    split.y.readRow(i, row, 0);
    for (let k = 0; k < row.length; k++) {
      const at = row.length === 1 ? `label ${i}` : `label ${i}, position ${k},`;
      if (row[k] < 0 || row[k] >= classes) throw new KilnError(`${split.yName}: ${at} is class ${row[k]}, but the model has ${classes} classes (0..${classes - 1})`);
    }
  }
}

export const labelWidth = (p: LabelPlan): number => (p.kind === 'ids' ? p.positions : p.kind === 'oneHot' ? p.classes : p.width);
