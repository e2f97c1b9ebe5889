// A leading symbolic dimension of ONNX inputs (an exported model's "N", PyTorch's "batch_size")
// becomes Kiln's batch dimension: the model is imported at a probe size, then generalised. A batch
// elsewhere (sequence-first [T, N, F]), or one that moves inside a tensor, makes a per-sample
// graph instead (per-sample.ts): the module then loops over the batch.
import { makeNode } from '../ir/build.ts';
import { KilnError, ShapeError } from '../ir/errors.ts';
import { rewriteGraph, type Graph } from '../ir/graph.ts';
import type { Node } from '../ir/node.ts';
import { BATCH, formatShape } from '../ir/shape.ts';
import { decodeModel, importModel, type ImportOptions } from './import.ts';
import type { ModelProto } from './proto.ts';
import { importPerSample, type BatchedInput } from './per-sample.ts';

/** A batch size no dimension of a real model is likely to equal, so its uses can be found. */
const PROBE = 9973;

/** Inputs (not initializers) whose first dimension is symbolic and whose others are not. */
function batchedInputs(model: ModelProto): Map<string, number[]> {
  const g = model.graph!;
  const initialized = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const found = new Map<string, number[]>();
  for (const v of g.input ?? []) {
    const name = v.name ?? '';
    const dims = v.type?.tensorType?.shape?.dim ?? [];
    if (initialized.has(name) || dims.length === 0) continue;
    const symbolic = dims.map((d) => !!d.dimParam || d.dimValue === null || d.dimValue === undefined);
    if (symbolic[0] && !symbolic.slice(1).some(Boolean)) found.set(name, [PROBE, ...dims.slice(1).map((d) => Number(d.dimValue))]);
  }
  return found;
}

/** Inputs with one symbolic dimension that is not the first, as PyTorch's sequence-first [T, N, F]: the batch on that axis. */
function innerBatchInputs(model: ModelProto): BatchedInput[] {
  const g = model.graph!;
  const initialized = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const found: BatchedInput[] = [];
  for (const v of g.input ?? []) {
    const dims = v.type?.tensorType?.shape?.dim ?? [];
    const symbolic = dims.map((d) => !!d.dimParam || d.dimValue === null || d.dimValue === undefined);
    if (initialized.has(v.name ?? '') || symbolic[0] || symbolic.filter(Boolean).length !== 1) continue;
    found.push({ name: v.name ?? '', axis: symbolic.indexOf(true), dims: dims.map((d, i) => (symbolic[i] ? 1 : Number(d.dimValue))) });
  }
  return found;
}

/** The probe batch reached a value or an attribute generalise cannot rewrite. */
class BatchNotSymbolic extends KilnError {}

const mentionsProbe = (values: readonly unknown[]) => values.includes(PROBE);

/** The node with the probe batch replaced by the symbolic one, or an error where that is impossible. */
function generalise(node: Node, inputs: readonly Node[]): Node {
  const attrs = { ...(node.attrs as Record<string, unknown>) };
  if (node.op === 'input' && (attrs.shape as unknown[])[0] === PROBE) attrs.shape = [BATCH, ...(attrs.shape as unknown[]).slice(1)];
  else if (node.op === 'reshape' && (attrs.shape as unknown[])[0] === PROBE) attrs.shape = [-1, ...(attrs.shape as unknown[]).slice(1)];
  else if (node.op === 'expand' && (attrs.shape as unknown[])[0] === PROBE) attrs.shape = [BATCH, ...(attrs.shape as unknown[]).slice(1)];
  // A recurrent layer's scan: its body takes the batch too (carry and time slices [batch, …]).
  else if (node.op === 'scan') attrs.body = rewriteGraph(attrs.body as Graph, (n, rebuild) => generalise(n, n.inputs.map(rebuild)));
  const stillThere = Object.values(attrs).some((v) => Array.isArray(v) && mentionsProbe(v));
  if (stillThere || (node.op === 'const' && mentionsProbe(node.type.shape))) {
    throw new BatchNotSymbolic(`cannot keep the batch dimension symbolic: node ${node.op} ${formatShape(node.type.shape)} of layer '${node.meta.layer ?? '?'}' uses the batch size as a value; give the input a fixed shape`);
  }
  return makeNode(node.op, inputs, attrs, node.meta);
}

/** A size for every dimension of an input; 'N' (one, anywhere) keeps that dimension the batch. */
export type InputShape = readonly (number | 'N')[];

/**
 * Imports an ONNX model; inputs whose leading dimension is symbolic get Kiln's batch dimension.
 * An input whose one symbolic dimension is elsewhere (or 'N' elsewhere in `options.inputShapes`),
 * or a batch that cannot stay first inside the model, gives a per-sample graph with `batchAxes`.
 * Inputs with several symbolic dimensions need `options.inputShapes`.
 */
export function importOnnxBatched(bytes: Uint8Array, options: Omit<ImportOptions, 'inputShapes'> & { inputShapes?: Readonly<Record<string, InputShape>> } = {}): Graph {
  const model = decodeModel(bytes);
  const probes = batchedInputs(model);
  const fixed = new Map<string, number[]>();
  /** Inputs whose batch is not first (the file's symbolic dimension, or 'N' given elsewhere). */
  const inner = new Map(innerBatchInputs(model).map((b) => [b.name, b]));
  for (const [name, shape] of Object.entries(options.inputShapes ?? {})) {
    inner.delete(name);
    const at = shape.indexOf('N');
    if (at >= 0 && shape.lastIndexOf('N') !== at) throw new KilnError(`input '${name}': only one dimension can be the batch N, got [${shape.join(', ')}]`);
    if (at === 0) probes.set(name, [PROBE, ...(shape.slice(1) as number[])]);
    else if (at > 0) {
      probes.delete(name);
      inner.set(name, { name, axis: at, dims: shape.map((d) => (d === 'N' ? 1 : d)) });
    } else {
      probes.delete(name);
      fixed.set(name, shape as number[]);
    }
  }
  // Kiln's batch dimension comes first in every tensor, and kernels index with literal strides:
  // a batch elsewhere cannot stay symbolic, so the model is compiled for one sample and the
  // module loops over the batch in the user's layout (per-sample.ts, runtime/batch-axis.ts).
  const perSample = () => importPerSample(model, { ...options, inputShapes: undefined }, fixed, [...[...probes].map(([name, shape]): BatchedInput => ({ name, axis: 0, dims: shape })), ...inner.values()]);
  if (inner.size > 0) return perSample();
  // Object.fromEntries defines own properties: an input named "__proto__" stays a key.
  if (probes.size === 0) return importModel(model, { ...options, inputShapes: Object.fromEntries(fixed) });
  const probed = importModel(model, { ...options, inputShapes: Object.fromEntries([...fixed, ...probes]) });
  let graph: Graph;
  try {
    graph = rewriteGraph(probed, (node, rebuild) => (node.op === 'param' ? node : generalise(node, node.inputs.map(rebuild))));
  } catch (e) {
    // A batch that moves inside a tensor (PyTorch's batch-first RNN exports transpose to
    // sequence-first), or one used as a value: the per-sample graph holds either.
    if (!(e instanceof ShapeError) && !(e instanceof BatchNotSymbolic)) throw e;
    return perSample();
  }
  // An output that keeps the batch inside it (PyTorch's RNN state [1, N, H]): per sample as well.
  if (graph.outputs.some((o) => o.node.type.shape.slice(1).includes(PROBE as never))) return perSample();
  return graph;
}
