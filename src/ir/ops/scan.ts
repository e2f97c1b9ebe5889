// The loop node: `scan` runs a body graph over the time axis of its sequences, threading a carry
// (docs/design/time.md). One node however many steps, so the IR, the compiler's work and the
// emitted module do not grow with the sequence length.
import { RuleError } from '../errors.ts';
import { graphNodes, type Graph } from '../graph.ts';
import type { Node, TensorType } from '../node.ts';
import { formatShape, sameShape, type Dim } from '../shape.ts';
import { bool, int, oneOf, optional, record, type AttrSchema, type Field } from './attr-schema.ts';
import { defineOp } from './types.ts';

/** What a recurrent scan computes, for tools that recognise it (an ONNX exporter writing LSTM/GRU/RNN nodes). */
export interface CellAttrs {
  kind: 'rnn' | 'lstm' | 'gru';
  hiddenSize: number;
  /** Gate blocks' positions in the weight layout: LSTM i, f, c, o; GRU z, r, h; RNN none. */
  gateOrder: string;
  linearBeforeReset: boolean;
  direction: 'forward' | 'reverse';
}

export interface ScanAttrs {
  /**
   * Inputs (carry, one time slice of each sequence, invariants…) and one output, the new carry,
   * of the carry's type. Its inputs are `input` nodes; it has no parameters (weights come in as
   * invariants), so the loop owns nothing but the carry.
   */
  body: Graph;
  /** T, the trip count: sequences are [N, T, …]. */
  steps: number;
  /** Steps run from time T−1 down to 0 (the output stays indexed by time). */
  reverse: boolean;
  /** How many inputs after the carry are sequences; the rest are invariants. */
  sequenceCount: number;
  /** Output every step's carry, [N, T, …] (time on axis 1), or only the final carry. */
  stack: boolean;
  cell?: CellAttrs;
}

/** The body, checked to be a graph (by structure; the shape rule checks its types), kept by identity. */
function graphField(): Field<Graph> {
  return {
    optional: false,
    check(v, at) {
      const g = v as Partial<Graph> | null;
      const isGraph = typeof v === 'object' && g !== null && typeof g.name === 'string' && Array.isArray(g.inputs) && Array.isArray(g.outputs);
      if (!isGraph) throw new RuleError(`attribute ${at} must be a graph (name, inputs, outputs), got ${Array.isArray(v) ? 'a list' : typeof v}`);
      return v as Graph;
    },
  };
}

const cellSchema: AttrSchema<CellAttrs> = {
  kind: oneOf('rnn', 'lstm', 'gru'),
  hiddenSize: int(1),
  gateOrder: oneOf('', 'ifco', 'iofc', 'zrh', 'rzh'),
  linearBeforeReset: bool(),
  direction: oneOf('forward', 'reverse'),
};

const schema: AttrSchema<ScanAttrs> = {
  body: graphField(),
  steps: int(1),
  reverse: bool(),
  sequenceCount: int(0),
  stack: bool(),
  cell: optional(record(cellSchema)),
};

const showType = (t: TensorType) => `${t.dtype}${formatShape(t.shape)}`;

/** One time slice of a [N, T, …] sequence: [N, …]. */
export function sliceType(seq: TensorType, steps: number, index: number): TensorType {
  if (seq.shape.length < 2 || seq.shape[1] !== steps) {
    throw new RuleError(`sequence ${index} must be [N, ${steps}, …] (time on axis 1, ${steps} steps), got ${formatShape(seq.shape)}`);
  }
  return { dtype: seq.dtype, shape: [seq.shape[0], ...seq.shape.slice(2)] };
}

/** The stacked output's type: the carry with time inserted after its first axis. */
export function stackedType(carry: TensorType, steps: number): TensorType {
  if (carry.shape.length < 1) throw new RuleError(`a stacked scan needs a carry of rank ≥ 1 ([N, …]), got ${formatShape(carry.shape)}`);
  return { dtype: carry.dtype, shape: [carry.shape[0], steps, ...carry.shape.slice(1)] as Dim[] };
}

/** The body's structure: `input` leaves one per scan input, one output, no parameters. */
function checkBody(body: Graph, count: number): void {
  if (body.inputs.length !== count) throw new RuleError(`the body takes ${body.inputs.length} input(s), but the scan has ${count} (carry, sequences, invariants)`);
  if (body.outputs.length !== 1) throw new RuleError(`the body must have exactly one output (the new carry), got ${body.outputs.length}`);
  const inputs = new Set<Node>(body.inputs);
  const names = new Set(body.inputs.map((n) => String(n.attrs.name)));
  if (inputs.size !== count || names.size !== count || body.inputs.some((n) => n.op !== 'input')) throw new RuleError(`the body's inputs must be distinct input nodes with distinct names`);
  const stray = graphNodes(body).find((n) => n.op === 'param' || (n.op === 'input' && !inputs.has(n)));
  if (stray) throw new RuleError(`the body reads ${stray.op} '${String(stray.attrs.name)}': weights enter a scan as invariants, not as the body's own ${stray.op}s`);
}

function inferScan(inputs: readonly TensorType[], a: ScanAttrs): TensorType {
  const { body, steps, sequenceCount: S } = a;
  if (S > inputs.length - 1) throw new RuleError(`sequenceCount ${S} exceeds the ${inputs.length - 1} input(s) after the carry`);
  checkBody(body, inputs.length);
  const expected = inputs.map((t, i) => (i >= 1 && i <= S ? sliceType(t, steps, i - 1) : t));
  expected.forEach((t, i) => {
    const b = body.inputs[i].type;
    if (b.dtype !== t.dtype || !sameShape(b.shape, t.shape)) {
      const what = i === 0 ? 'the carry' : i <= S ? `sequence ${i - 1}'s time slice` : `invariant ${i - 1 - S}`;
      throw new RuleError(`body input ${i} is ${showType(b)}, but ${what} is ${showType(t)}`);
    }
  });
  const out = body.outputs[0].node.type;
  if (out.dtype !== inputs[0].dtype || !sameShape(out.shape, inputs[0].shape)) {
    throw new RuleError(`the body returns ${showType(out)}, but the carry is ${showType(inputs[0])}: the new carry must have the carry's type`);
  }
  if (a.stack && S > 0 && inputs[0].shape[0] !== inputs[1].shape[0]) {
    throw new RuleError(`a stacked carry's first axis (${String(inputs[0].shape[0])}) must be the sequences' (${String(inputs[1].shape[0])})`);
  }
  return a.stack ? stackedType(inputs[0], steps) : inputs[0];
}

/** A node's FLOPs per sample by its op's rule: given by index.ts once the op table exists (this file cannot import it: index.ts imports this one). */
let nodeFlops: (n: Node) => number = () => 0;
export function setNodeFlops(f: (n: Node) => number): void {
  nodeFlops = f;
}

/** Work per sample: the body's, once per step (nested scans count theirs the same way). */
function scanFlops(_inputs: readonly TensorType[], _out: TensorType, a: ScanAttrs): number {
  return graphNodes(a.body).reduce((sum, n) => sum + nodeFlops(n), 0) * a.steps;
}

export const scan = defineOp<ScanAttrs>({
  // Anchors its own step (a host loop over the body's kernels) and never joins another kernel:
  // compiler/fuse and compiler/lower treat it by name.
  kind: 'reduce',
  arity: 'variadic',
  attrs: schema,
  infer: inferScan,
  flops: scanFlops,
});

export const scanOps = { scan };
