// Gather indices fed at run time: ONNX makes an index outside [-n, n) an error, and the kernels
// (which wrap once, `(i + n) % n`) would read out of bounds or the wrong row. Rather than a branch
// in every kernel, the emitted module checks each input that is used as indices once per call.
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';

/** Ops whose second operand holds indices into axis `attrs.axis` of the first. */
const INDEXING_OPS: ReadonlySet<string> = new Set(['gather', 'gatherElements']);

/** Ops that hand their input's values on unchanged (only the shape differs). */
const VIEWS: ReadonlySet<string> = new Set(['reshape', 'identity', 'expand', 'transpose']);

/** The graph input whose values `n` carries unchanged, if any. */
function sourceInput(n: Node): Node | undefined {
  let x = n;
  while (VIEWS.has(x.op) && x.inputs.length === 1) x = x.inputs[0];
  return x.op === 'input' ? x : undefined;
}

/**
 * For each input position of `g` whose values index a gather, the size n of the smallest axis
 * they index: every value must lie in [-n, n).
 */
export function indexInputs(g: Graph): Map<number, number> {
  const limits = new Map<number, number>();
  for (const n of graphNodes(g)) {
    if (!INDEXING_OPS.has(n.op)) continue;
    const input = sourceInput(n.inputs[1]);
    if (!input) continue;
    const data = n.inputs[0].type.shape;
    const rank = data.length;
    const axis = Number(n.attrs.axis);
    const size = data[axis < 0 ? axis + rank : axis];
    if (typeof size !== 'number') continue;
    const position = g.inputs.indexOf(input);
    if (position < 0) continue;
    limits.set(position, Math.min(limits.get(position) ?? Infinity, size));
  }
  return limits;
}

/** The statement checking input `i` (array `ref`) when it holds gather indices, else nothing. */
export function indexCheck(limits: ReadonlyMap<number, number>, i: number, ref: string): string[] {
  const size = limits.get(i);
  return size === undefined ? [] : [`checkIndices(inputs[${i}], ${ref}, ${size});`];
}
