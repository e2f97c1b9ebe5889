// ONNX Scan (opset 9 on) imported as Kiln's loop node `scan`: the body subgraph is imported by the
// same importer (one call per nesting level), one state variable is the carry, states the body
// passes through unchanged (and outer-scope values it reads) are invariants, scan inputs are moved
// to Kiln's [A, T, …] layout, and scan outputs (the carry at every step) back to theirs. Loop, whose
// trip count or condition is computed at run time, stays unsupported.
import type { DType } from '../ir/dtype.ts';
import type { Graph } from '../ir/graph.ts';
import type { Node } from '../ir/node.ts';
import { ELEM_TYPE } from './export-context.ts';
import { int, ints, shapeOf, type OnnxContext, type OnnxOp } from './context.ts';
import type { GraphProto, NodeProto, ValueInfoProto } from './proto.ts';

/** The GRAPH attribute `name`, or an unsupported error saying why it is not there. */
function graphAttr(c: OnnxContext, name: string): GraphProto {
  const g = c.attr(name) as GraphProto | { unsupportedAttributeType: number } | undefined;
  if (!g) return c.unsupported(`attribute ${JSON.stringify(name)} (the loop body) is missing`);
  if ('unsupportedAttributeType' in g) return c.unsupported(`attribute ${JSON.stringify(name)}: this importer does not pass GRAPH attributes to op mappings`);
  return g;
}

/** Follows Identity nodes back from `name` to the value they copy. */
function rootOf(name: string, producers: ReadonlyMap<string, NodeProto>): string {
  let at = name;
  for (let p = producers.get(at); p && p.opType === 'Identity' && (p.input ?? []).length === 1; p = producers.get(at)) at = p.input![0];
  return at;
}

/** Names a graph reads that nothing inside it defines (its nested bodies' reads included): values of the outer scope. */
function freeNames(body: GraphProto): string[] {
  const defined = new Set<string>([...(body.input ?? []).map((v) => v.name ?? ''), ...(body.initializer ?? []).map((t) => t.name ?? '')]);
  for (const n of body.node ?? []) for (const o of n.output ?? []) defined.add(o);
  const free = new Set<string>();
  for (const n of body.node ?? []) {
    // A nested body's outer reads pass through this one: one call per nesting level.
    const nested = (n.attribute ?? []).flatMap((a) => (a.g ? freeNames(a.g) : []));
    for (const i of [...(n.input ?? []), ...nested]) if (i && !defined.has(i)) free.add(i);
  }
  return [...free];
}

/** Every name a graph's nodes (and nested bodies) read, and its outputs. */
function readNames(body: GraphProto): Set<string> {
  const read = new Set<string>((body.output ?? []).map((o) => o.name ?? ''));
  for (const n of body.node ?? []) {
    for (const i of n.input ?? []) read.add(i);
    for (const a of n.attribute ?? []) if (a.g) for (const f of freeNames(a.g)) read.add(f);
  }
  return read;
}

const valueInfo = (name: string, dtype: DType): ValueInfoProto => ({ name, type: { tensorType: { elemType: ELEM_TYPE[dtype], shape: { dim: [] } } } });

/** A permutation of `rank` axes moving axis `from` to position `to`. */
function moveAxis(rank: number, from: number, to: number): number[] {
  const rest = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== from);
  rest.splice(to, 0, from);
  return rest;
}

/** Bodies are imported one call per nesting level: a file nesting them deeper than any model would is refused before the stack runs out. */
const MAX_NESTING = 32;
let depth = 0;

const scan: OnnxOp = (c) => {
  if (c.opset < 9) c.unsupported(`Scan before opset 9 (batched, with sequence_lens) is not supported`);
  const body = graphAttr(c, 'body');
  const M = int(c, 'num_scan_inputs', -1);
  const S = c.count - M;
  const bodyIn = body.input ?? [];
  const bodyOut = body.output ?? [];
  if (M < 1 || S < 1 || bodyIn.length !== c.count) c.unsupported(`expected ${c.count} body inputs for ${Math.max(S, 0)} state(s) and ${M} scan input(s), with at least one of each; the body has ${bodyIn.length}`);
  if (bodyOut.length < S) c.unsupported(`the body has ${bodyOut.length} output(s), fewer than the ${S} state variable(s) it must return`);
  const K = bodyOut.length - S;
  const inAxes = ints(c, 'scan_input_axes') ?? new Array<number>(M).fill(0);
  const inDirs = ints(c, 'scan_input_directions') ?? new Array<number>(M).fill(0);
  const outAxes = ints(c, 'scan_output_axes') ?? new Array<number>(K).fill(0);
  const outDirs = ints(c, 'scan_output_directions') ?? new Array<number>(K).fill(0);
  if (inAxes.length !== M || inDirs.length !== M || outAxes.length !== K || outDirs.length !== K) c.unsupported(`scan axes and directions must list one entry per scan input and output`);
  if (new Set(inDirs).size > 1) c.unsupported(`scan inputs run in different directions (${inDirs.join(', ')}): Kiln's scan runs every sequence one way`);
  const reverse = inDirs[0] === 1;

  const producers = new Map<string, NodeProto>();
  for (const n of body.node ?? []) for (const o of n.output ?? []) producers.set(o, n);
  // States the body returns unchanged are loop invariants; exactly one other is the carry.
  const passthrough = Array.from({ length: S }, (_, j) => rootOf(bodyOut[j].name ?? '', producers) === bodyIn[j].name);
  const carries = passthrough.flatMap((p, j) => (p ? [] : [j]));
  if (carries.length !== 1) c.unsupported(`Kiln's scan threads one carry; this Scan updates ${carries.length} state variables`);
  const j0 = carries[0];
  const carryOut = rootOf(bodyOut[j0].name ?? '', producers);
  for (let k = 0; k < K; k++) {
    if (rootOf(bodyOut[S + k].name ?? '', producers) !== carryOut) c.unsupported(`scan output ${k} is not the carry's new value: Kiln's scan stacks only its carry`);
  }

  // Sequences to Kiln's [A, T, …]: the scanned axis moved to position 1. A scan input the body
  // never reads only counts the steps (Kiln's export writes one for a scan without sequences).
  const read = readNames(body);
  const seqs: Node[] = [];
  const kept: number[] = [];
  let steps = -1;
  for (let m = 0; m < M; m++) {
    const x = c.input(S + m);
    const rank = shapeOf(x).length;
    const axis = inAxes[m] < 0 ? inAxes[m] + rank : inAxes[m];
    if (rank < 1 || axis < 0 || axis >= rank) c.unsupported(`scan_input_axes[${m}] = ${inAxes[m]} is out of range for rank ${rank}`);
    const T = shapeOf(x)[axis];
    if (steps >= 0 && T !== steps) c.unsupported(`scan inputs have different lengths (${steps} and ${T})`);
    steps = T;
    if (!read.has(bodyIn[S + m].name ?? '')) continue;
    if (rank < 2) c.unsupported(`scan input ${m} has rank ${rank}: Kiln's sequences need a leading axis besides time`);
    kept.push(m);
    seqs.push(axis === 1 ? x : c.emit('transpose', [x], { perm: axis === 0 ? moveAxis(rank, 1, 0) : moveAxis(rank, axis, 1) }));
  }
  if (steps < 1) c.unsupported(`a Scan over 0 steps is not supported`);

  const carry0 = c.input(j0);
  const invariantStates = passthrough.flatMap((p, j) => (p ? [j] : []));
  const outerNames = freeNames(body);
  const outer = outerNames.map((name) => c.outer?.(name) ?? c.unsupported(`the body reads '${name}' from the enclosing graph, which this importer does not resolve for op mappings`));
  const invariants = [...invariantStates.map((j) => c.input(j)), ...outer];

  // The body as a model of its own: carry, time slices, invariant states, outer values; its output the new carry.
  const sliceShape = (x: Node) => [shapeOf(x)[0], ...shapeOf(x).slice(2)];
  const inputs = [
    { info: bodyIn[j0], node: carry0, shape: shapeOf(carry0) },
    ...seqs.map((x, i) => ({ info: bodyIn[S + kept[i]], node: x, shape: sliceShape(x) })),
    ...invariantStates.map((j) => ({ info: bodyIn[j], node: c.input(j), shape: shapeOf(c.input(j)) })),
    ...outer.map((node, i) => ({ info: { name: outerNames[i] } as ValueInfoProto, node, shape: shapeOf(node) })),
  ];
  const sub: GraphProto = { ...body, input: inputs.map((i) => valueInfo(i.info.name ?? '', i.node.type.dtype)), output: [{ name: carryOut }] };
  const inputShapes = Object.fromEntries(inputs.map((i) => [i.info.name ?? '', i.shape]));
  if (depth >= MAX_NESTING) c.unsupported(`Scan bodies nested more than ${MAX_NESTING} deep are not supported`);
  if (!c.importBody) return c.unsupported(`this importer does not import loop bodies for op mappings`);
  depth++;
  let imported: Graph;
  try {
    imported = c.importBody(sub, inputShapes, body.name || 'scan_body');
  } finally {
    depth--;
  }
  const loop = (stack: boolean) => c.emit('scan', [carry0, ...seqs, ...invariants], { body: imported, steps, reverse, sequenceCount: seqs.length, stack });

  const wantStack = Array.from({ length: K }, (_, k) => c.wantsOutput(S + k)).some(Boolean);
  const stacked = wantStack ? loop(true) : undefined;
  const final = Array.from({ length: S }, (_, j) => c.wantsOutput(j)).some((w, j) => w && j === j0) ? loop(false) : undefined;
  const outs: Node[] = [];
  for (let j = 0; j < S; j++) outs.push(j === j0 ? (final ?? carry0) : c.input(j));
  for (let k = 0; k < K; k++) {
    if (!stacked) {
      outs.push(carry0); // not read (wantsOutput said so): any node stands in
      continue;
    }
    // Kiln's stack is in time order; ONNX appends (direction 0) or prepends (1) in iteration order.
    let y = reverse !== (outDirs[k] === 1) ? c.emit('slice', [stacked], { starts: [-1], ends: [-steps - 1], axes: [1], steps: [-1] }) : stacked;
    const rank = shapeOf(y).length;
    const axis = outAxes[k] < 0 ? outAxes[k] + rank : outAxes[k];
    if (axis < 0 || axis >= rank) c.unsupported(`scan_output_axes[${k}] = ${outAxes[k]} is out of range for rank ${rank}`);
    if (axis !== 1) y = c.emit('transpose', [y], { perm: axis === 0 ? moveAxis(rank, 1, 0) : moveAxis(rank, 1, axis) });
    outs.push(y);
  }
  return outs;
};

/** ONNX loop ops: Scan imported, Loop refused with the reason. */
export const LOOP_OPS: Readonly<Record<string, OnnxOp>> = {
  Scan: scan,
  Loop: (c) => c.unsupported(`Loop (a trip count or condition computed at run time) is not supported: Kiln compiles loops with a static trip count (ONNX Scan)`),
};
