// A leading symbolic dimension of ONNX inputs (an exported model's "N", PyTorch's "batch_size")
// becomes Kiln's batch dimension: the model is imported at a probe size, then generalised.
import { makeNode } from '../ir/build.ts';
import { KilnError, ShapeError } from '../ir/errors.ts';
import { rewriteGraph, type Graph } from '../ir/graph.ts';
import type { Node } from '../ir/node.ts';
import { BATCH, formatShape } from '../ir/shape.ts';
import { decodeModel, importModel, type ImportOptions } from './import.ts';
import type { ModelProto } from './proto.ts';

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

/**
 * Inputs with one symbolic dimension that is not the first, as PyTorch's sequence-first [T, N, F]:
 * the name, the dimension's position and label, and the shape as the file writes it.
 */
function innerBatchInputs(model: ModelProto): { name: string; position: number; label: string; shape: string }[] {
  const g = model.graph!;
  const initialized = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const found: { name: string; position: number; label: string; shape: string }[] = [];
  for (const v of g.input ?? []) {
    const dims = v.type?.tensorType?.shape?.dim ?? [];
    const symbolic = dims.map((d) => !!d.dimParam || d.dimValue === null || d.dimValue === undefined);
    if (initialized.has(v.name ?? '') || symbolic[0] || symbolic.filter(Boolean).length !== 1) continue;
    const position = symbolic.indexOf(true);
    const label = dims[position].dimParam || '?';
    found.push({ name: v.name ?? '', position, label, shape: `[${dims.map((d, i) => (symbolic[i] ? d.dimParam || '?' : String(d.dimValue))).join(', ')}]` });
  }
  return found;
}

const mentionsProbe = (values: readonly unknown[]) => values.includes(PROBE);

/** The node with the probe batch replaced by the symbolic one, or an error where that is impossible. */
function generalise(node: Node, inputs: readonly Node[]): Node {
  const attrs = { ...(node.attrs as Record<string, unknown>) };
  if (node.op === 'input' && (attrs.shape as unknown[])[0] === PROBE) attrs.shape = [BATCH, ...(attrs.shape as unknown[]).slice(1)];
  else if (node.op === 'reshape' && (attrs.shape as unknown[])[0] === PROBE) attrs.shape = [-1, ...(attrs.shape as unknown[]).slice(1)];
  else if (node.op === 'expand' && (attrs.shape as unknown[])[0] === PROBE) attrs.shape = [BATCH, ...(attrs.shape as unknown[]).slice(1)];
  const stillThere = Object.values(attrs).some((v) => Array.isArray(v) && mentionsProbe(v));
  if (stillThere || (node.op === 'const' && mentionsProbe(node.type.shape))) {
    throw new KilnError(`cannot keep the batch dimension symbolic: node ${node.op} ${formatShape(node.type.shape)} of layer '${node.meta.layer ?? '?'}' uses the batch size as a value; give the input a fixed shape`);
  }
  return makeNode(node.op, inputs, attrs, node.meta);
}

/** A size for every dimension of an input; 'N' (first only) keeps that dimension the batch. */
export type InputShape = readonly (number | 'N')[];

/**
 * Imports an ONNX model; inputs whose leading dimension is symbolic get Kiln's batch dimension.
 * Inputs with other symbolic dimensions need `options.inputShapes` (where 'N' first keeps the batch).
 */
export function importOnnxBatched(bytes: Uint8Array, options: Omit<ImportOptions, 'inputShapes'> & { inputShapes?: Readonly<Record<string, InputShape>> } = {}): Graph {
  const model = decodeModel(bytes);
  const probes = batchedInputs(model);
  const fixed = new Map<string, number[]>();
  for (const [name, shape] of Object.entries(options.inputShapes ?? {})) {
    if (shape.slice(1).includes('N')) throw new KilnError(`input '${name}': only the first dimension can be the batch N`);
    if (shape[0] === 'N') probes.set(name, [PROBE, ...(shape.slice(1) as number[])]);
    else {
      probes.delete(name);
      fixed.set(name, shape as number[]);
    }
  }
  // Kiln's batch dimension comes first in every tensor: a batch inside an input's shape (and so
  // inside every tensor computed from it) cannot stay symbolic. The input keeps the file's layout
  // at a size the user names, so the module takes exactly what the file declares.
  const inner = innerBatchInputs(model).find((i) => !Object.hasOwn(options.inputShapes ?? {}, i.name));
  if (inner) {
    const example = inner.shape.replace(/^\[|\]$/g, '').split(', ').map((d, i) => (i === inner.position ? '8' : d)).join(',');
    throw new KilnError(
      `input '${inner.name}' ${inner.shape} has its symbolic dimension '${inner.label}' at position ${inner.position + 1}, not first; Kiln's batch dimension must come first, so give the input a fixed size (--input-shape ${inner.name}=${example}, or inputShapes in the API), or export the model batch-first (PyTorch: batch_first=True)`,
    );
  }
  // Object.fromEntries defines own properties: an input named "__proto__" stays a key.
  if (probes.size === 0) return importModel(model, { ...options, inputShapes: Object.fromEntries(fixed) });
  const probed = importModel(model, { ...options, inputShapes: Object.fromEntries([...fixed, ...probes]) });
  let graph: Graph;
  try {
    graph = rewriteGraph(probed, (node, rebuild) => (node.op === 'param' ? node : generalise(node, node.inputs.map(rebuild))));
  } catch (e) {
    // A batch that moves inside a tensor (PyTorch's batch-first RNN exports transpose to sequence-first).
    if (!(e instanceof ShapeError)) throw e;
    const sizes = [...probes].map(([name, shape]) => `--input-shape ${name}=${[8, ...shape.slice(1)].join(',')}`).join(' ');
    throw new KilnError(`cannot keep the batch dimension symbolic: ${e.message}; Kiln's batch must stay first in every tensor, so give the input a fixed size (${sizes}, or inputShapes in the API)`);
  }
  for (const o of graph.outputs) {
    if (o.node.type.shape.slice(1).includes(PROBE as never)) throw new KilnError(`output '${o.name}' ${formatShape(o.node.type.shape)} keeps the batch inside it; give the input a fixed shape`);
  }
  return graph;
}
