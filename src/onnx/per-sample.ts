// ONNX models whose symbolic batch is not first (PyTorch's sequence-first [T, N, F], or a batch a
// transpose moves inside): imported at batch 1 as a per-sample function, with the batch axis of
// every input and output recorded (Graph.batchAxes) so the emitted module loops over the batch.
import { KilnError } from '../ir/errors.ts';
import type { BatchAxes, Graph } from '../ir/graph.ts';
import { formatShape } from '../ir/shape.ts';
import { importModel, type ImportOptions } from './import.ts';
import type { ModelProto } from './proto.ts';

/** An input that carries the batch: its name, the batch's position, and its other sizes (the batch's slot holds anything). */
export interface BatchedInput {
  readonly name: string;
  readonly axis: number;
  readonly dims: readonly number[];
}

/** The shape of a batched input at `size` samples. */
const atSize = (b: BatchedInput, size: number) => b.dims.map((d, i) => (i === b.axis ? size : d));

/** For each graph output, the positions of the dimensions the file leaves symbolic. */
function declaredSymbolic(model: ModelProto): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const v of model.graph!.output ?? []) {
    const dims = v.type?.tensorType?.shape?.dim ?? [];
    out.set(v.name ?? '', dims.flatMap((d, i) => (d.dimParam || d.dimValue === null || d.dimValue === undefined ? [i] : [])));
  }
  return out;
}

/**
 * Where an output's batch lies, from its shapes at batch 1 and 2: the one dimension that is 1 then
 * 2, where every other agrees. A dimension the file declares symbolic must be that one when it
 * declares exactly one; undefined when the shapes say nothing clear.
 */
export function outputAxis(one: readonly unknown[], two: readonly unknown[], declared: readonly number[]): number | undefined {
  if (one.length !== two.length) return undefined;
  const differ = one.flatMap((d, i) => (d !== two[i] ? [i] : []));
  if (differ.length !== 1 || one[differ[0]] !== 1 || two[differ[0]] !== 2) return undefined;
  if (declared.length === 1 && declared[0] !== differ[0]) return undefined;
  return differ[0];
}

/**
 * The model imported for one sample: each batched input at size 1 on its axis, and each output's
 * batch axis found by importing again at batch 2 (weights kept from the first import only). An
 * output whose axis cannot be found (it does not grow with the batch, or grows in several places)
 * is an error naming it.
 */
export function importPerSample(model: ModelProto, options: ImportOptions, fixed: ReadonlyMap<string, readonly number[]>, batched: readonly BatchedInput[]): Graph {
  const shapes = (size: number) => Object.fromEntries([...fixed, ...batched.map((b) => [b.name, atSize(b, size)] as const)]);
  const graph = importModel(model, { ...options, inputShapes: shapes(1) });
  let doubled: Graph;
  try {
    doubled = importModel(model, { ...options, inputShapes: shapes(2), weightsOut: options.weightsOut ? {} : undefined });
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    throw new KilnError(`cannot find where the outputs' batch lies: the model imports at batch 1 but not at batch 2 (${e.message}); give the inputs fixed shapes`);
  }
  const declared = declaredSymbolic(model);
  const outputs = graph.outputs.map((o, k) => {
    const one = o.node.type.shape;
    const two = doubled.outputs[k].node.type.shape;
    const axis = outputAxis(one, two, declared.get(o.name) ?? []);
    if (axis === undefined) {
      throw new KilnError(
        `output '${o.name}': cannot tell which dimension is the batch (${formatShape(one)} at batch 1, ${formatShape(two)} at batch 2${(declared.get(o.name) ?? []).length ? `, symbolic in the file at position ${declared.get(o.name)!.map((i) => i + 1).join(', ')}` : ''}); an output must hold one slice per sample along one dimension`,
      );
    }
    return axis;
  });
  const axisOf = new Map(batched.map((b) => [b.name, b.axis]));
  const batchAxes: BatchAxes = { inputs: graph.inputs.map((n) => axisOf.get(String(n.attrs.name)) ?? null), outputs };
  return { ...graph, batchAxes };
}
