// Graphs: named inputs and outputs over a DAG of nodes; parameters are the `param` leaves.
import type { Node } from './node.ts';

export interface GraphOutput {
  readonly name: string;
  readonly node: Node;
}

/**
 * The string tensors at an imported model's boundary (ONNX STRING, carried as interned int32 ids
 * inside; src/onnx/strings.ts): the emitted module converts them on the way in and out.
 */
export interface StringBoundary {
  /** Names of the graph inputs that are string tensors. */
  readonly inputs: readonly string[];
  /** Names of the graph outputs that are string tensors. */
  readonly outputs: readonly string[];
  /** The dictionary's first entries, the model's string constants: an id is a position here. */
  readonly table: readonly string[];
}

export interface Graph {
  readonly name: string;
  readonly inputs: readonly Node[];
  readonly outputs: readonly GraphOutput[];
  /** Set by ONNX import for a model with string tensors at its boundary; absent otherwise. */
  readonly strings?: StringBoundary;
  /** Set by ONNX import for a model whose batch is not first (a per-sample graph); absent otherwise. */
  readonly batchAxes?: BatchAxes;
}

/**
 * A per-sample graph (its batch-1 dimension where each input and output has its batch): the
 * emitted module takes whole batches in that layout and runs the graph once per sample
 * (runtime/batch-axis.ts). Positional, as `inputs` and `outputs`; null: an input fed whole.
 */
export interface BatchAxes {
  readonly inputs: readonly (number | null)[];
  readonly outputs: readonly number[];
}

/** Every node reachable from the outputs, inputs first, each after all of its inputs. */
export function topoSort(roots: readonly Node[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  // Iterative DFS: model graphs can be deep (unrolled RNNs), so no recursion.
  for (const root of roots) {
    const stack: [Node, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [node, next] = top;
      if (seen.has(node)) {
        stack.pop();
        continue;
      }
      if (next < node.inputs.length) {
        top[1]++;
        const child = node.inputs[next];
        if (!seen.has(child)) stack.push([child, 0]);
      } else {
        seen.add(node);
        order.push(node);
        stack.pop();
      }
    }
  }
  return order;
}

export function graphNodes(g: Graph): Node[] {
  return topoSort([...g.inputs, ...g.outputs.map((o) => o.node)]);
}

/** Parameter nodes reachable from the outputs, in creation order. */
export function graphParams(g: Graph): Node[] {
  return graphNodes(g)
    .filter((n) => n.op === 'param')
    .sort((a, b) => a.id - b.id);
}

/** For each node, the nodes that read it (graph outputs count as readers via `outputs`). */
export function consumers(nodes: readonly Node[]): Map<Node, Node[]> {
  const users = new Map<Node, Node[]>(nodes.map((n) => [n, []]));
  for (const n of nodes) for (const i of n.inputs) users.get(i)?.push(n);
  return users;
}

/**
 * Rebuilds a graph bottom-up, replacing each node by `f(node with rewritten inputs)`. Inputs and
 * outputs keep their names, so graph-level facts (`strings`) carry over unchanged.
 */
export function rewriteGraph(g: Graph, f: (node: Node, rebuild: (n: Node) => Node) => Node): Graph {
  const done = new Map<Node, Node>();
  const rebuild = (n: Node): Node => done.get(n) ?? n;
  for (const n of graphNodes(g)) done.set(n, f(n, rebuild));
  return {
    name: g.name,
    inputs: g.inputs.map(rebuild),
    outputs: g.outputs.map((o) => ({ name: o.name, node: rebuild(o.node) })),
    ...(g.strings ? { strings: g.strings } : {}),
    ...(g.batchAxes ? { batchAxes: g.batchAxes } : {}),
  };
}
