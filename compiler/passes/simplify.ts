// Dead-code elimination: nodes that compute nothing (identity views, no-op casts and reshapes,
// inference-time dropout) are bypassed, and whatever no output reaches is dropped. A concat of
// every unit time slice of one tensor, in order, is that tensor (a recurrent layer's per-step
// states restacked: the scan's output already holds them). A stacked scan read only at its final
// step keeps only its final carry (final-step.ts).
import { makeNode, withInputs } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { rewriteGraph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { BATCH, normAxis, sameShape, type Dim, type Shape } from '../../src/ir/shape.ts';

/** True when a node's value is its first input's, unchanged. */
function isNoOp(n: Node): boolean {
  const x = n.inputs[0];
  switch (n.op) {
    case 'identity':
    case 'dropout':
      return true;
    case 'reshape':
      return sameShape(x.type.shape, n.type.shape);
    case 'cast':
      return x.type.dtype === n.type.dtype;
    case 'transpose':
      return (n.attrs.perm as number[]).every((p, i) => p === i);
    default:
      return false;
  }
}

/** Dims before (or after) `axis` without the unit ones: equal on both sides means the same row-major layout around the axis. */
const around = (shape: Shape, axis: number, side: 'before' | 'after'): string => (side === 'before' ? shape.slice(0, axis) : shape.slice(axis + 1)).filter((d) => d !== 1).join(',');

/** The slice of `x` (through reshapes) that takes index k alone along one axis, or undefined. */
function unitSlice(x: Node, k: number): { source: Node; axis: number; slice: Node } | undefined {
  let v = x;
  while (v.op === 'reshape') v = v.inputs[0];
  if (v.op !== 'slice') return undefined;
  const a = v.attrs as { starts: number[]; ends: number[]; axes?: number[]; steps?: number[] };
  const rank = v.inputs[0].type.shape.length;
  if (a.starts.length !== 1 || a.starts[0] !== k || a.ends[0] !== k + 1 || (a.steps?.[0] ?? 1) !== 1) return undefined;
  return { source: v.inputs[0], axis: normAxis(a.axes?.[0] ?? 0, rank), slice: v };
}

/** concat(slice_0(X), …, slice_{T−1}(X)) along the sliced axis, each maybe reshaped: X (reshaped to the concat's shape). */
function restacked(n: Node): Node | undefined {
  if (n.op !== 'concat' || n.inputs.length < 2) return undefined;
  const axis = normAxis(n.attrs.axis as number, n.type.shape.length);
  const parts = n.inputs.map((x, k) => unitSlice(x, k));
  const first = parts[0];
  if (!first || parts.some((p) => !p || p.source !== first.source || p.axis !== first.axis)) return undefined;
  const { source, slice } = first;
  if (source.type.shape[first.axis] !== n.inputs.length) return undefined;
  const shape = n.inputs[0].type.shape;
  if (around(shape, axis, 'before') !== around(slice.type.shape, first.axis, 'before') || around(shape, axis, 'after') !== around(slice.type.shape, first.axis, 'after')) return undefined;
  if (sameShape(source.type.shape, n.type.shape)) return source;
  const target: Dim[] = n.type.shape[0] === BATCH ? [-1, ...n.type.shape.slice(1)] : [...n.type.shape];
  return makeNode('reshape', [source], { shape: target }, n.meta);
}

/**
 * A graph only holds what its outputs reach, so rebuilding it drops dead nodes; bypassing
 * no-ops makes their inputs' producers dead too when nothing else reads them.
 */
export function eliminateDeadCode(g: Graph): Graph {
  return rewriteGraph(g, (node, rebuild) => {
    const n = withInputs(node, node.inputs.map(rebuild));
    return isNoOp(n) ? n.inputs[0] : (restacked(n) ?? n);
  });
}
