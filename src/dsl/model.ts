// A model: the graph a model file exports, with its named inputs and outputs.
import { KilnError } from '../ir/errors.ts';
import { graphNodes, type Graph } from '../ir/graph.ts';
import type { Node } from '../ir/node.ts';

export interface Model {
  readonly kind: 'kiln.model';
  readonly graph: Graph;
  /** Parameter values that come with the model (an imported file's initializers), by name. */
  readonly weights?: Readonly<Record<string, Float32Array>>;
}

export interface ModelSpec {
  name: string;
  inputs: Node | Node[];
  outputs: Node | Node[] | Record<string, Node>;
}

/** The input node behind a DSL input (a channels-last input is a transpose of one). */
function inputLeaf(x: Node): Node {
  if (x.op === 'input') return x;
  if (x.op === 'transpose' && x.inputs[0]?.op === 'input') return x.inputs[0];
  throw new KilnError(`model inputs must be made with input(), got a '${x.op}' node`);
}

/** Wraps a graph built with the DSL as a model, checking that every input it reads is declared. */
export function model(spec: ModelSpec): Model {
  const inputs = (Array.isArray(spec.inputs) ? spec.inputs : [spec.inputs]).map(inputLeaf);
  const outs = spec.outputs;
  const outputs = Array.isArray(outs)
    ? outs.map((node, i) => ({ name: outs.length === 1 ? 'output' : `output_${i}`, node }))
    : 'op' in outs
      ? [{ name: 'output', node: outs as Node }]
      : Object.entries(outs).map(([name, node]) => ({ name, node }));
  const graph: Graph = { name: spec.name, inputs, outputs };
  const undeclared = graphNodes(graph).find((n) => n.op === 'input' && !inputs.includes(n));
  if (undeclared) throw new KilnError(`model '${spec.name}' reads input '${undeclared.attrs.name}' that is not among its inputs`);
  return { kind: 'kiln.model', graph };
}

export function isModel(value: unknown): value is Model {
  return typeof value === 'object' && value !== null && (value as Model).kind === 'kiln.model';
}
