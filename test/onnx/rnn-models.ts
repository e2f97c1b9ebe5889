// ONNX RNN/LSTM/GRU models built by hand, one recurrent node each, with seeded weights and inputs,
// for the tests of their import as scans (rnn-scan-import.test.ts). onnxruntime refuses layout 1
// when a session is created, so a batch-first model's reference runs its layout-0 twin on
// transposed inputs, and its outputs are transposed back (`refFeeds`, `fromLayout0`).
import { onnx } from '../../src/onnx/proto.ts';
import { Lcg } from '../reference/lcg.ts';

const DT = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

export type RnnKind = 'RNN' | 'LSTM' | 'GRU';
export type RnnOutput = 'Y' | 'Y_h' | 'Y_c';

export interface RnnSpec {
  kind: RnnKind;
  steps: number;
  /** The batch the feeds hold; the file leaves it symbolic unless `fixedBatch`. */
  batch: number;
  fixedBatch?: boolean;
  input: number;
  hidden: number;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  layout?: 0 | 1;
  /** B (default true). */
  bias?: boolean;
  /** h0 (and c0 for an LSTM) as graph inputs, fed random values. */
  initial?: boolean;
  peepholes?: boolean;
  linearBeforeReset?: boolean;
  activations?: string[];
  clip?: number;
  /** The outputs the node names (and the graph returns); default all of its outputs. */
  outputs?: RnnOutput[];
  seed?: number;
  /** Every tensor float64 (DOUBLE), for gradient checks against finite differences. */
  double?: boolean;
  /** W, R, B and P as graph inputs, not initializers, so a gradient check can vary them. */
  weightsAsInputs?: boolean;
}

export interface Feed {
  data: Float32Array;
  dims: number[];
}

const GATES: Record<RnnKind, number> = { RNN: 1, LSTM: 4, GRU: 3 };
const dirs = (s: RnnSpec) => (s.direction === 'bidirectional' ? 2 : 1);
const floats = (name: string, dims: number[], data: ArrayLike<number>, double = false) =>
  double ? { name, dataType: DT.DOUBLE, dims, doubleData: Array.from(data) } : { name, dataType: DT.FLOAT, dims, floatData: Array.from(data) };
const valueInfo = (name: string, dims: (number | string)[], double = false) => ({
  name,
  type: { tensorType: { elemType: double ? DT.DOUBLE : DT.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
});

/** Shapes of the inputs and outputs at `layout`, the batch as `b`. */
function shapes(s: RnnSpec, layout: number, b: number | string) {
  const [S, D, H] = [s.steps, dirs(s), s.hidden];
  return layout === 1
    ? { x: [b, S, s.input], state: [b, D, H], Y: [b, S, D, H], Y_h: [b, D, H], Y_c: [b, D, H] }
    : { x: [S, b, s.input], state: [D, b, H], Y: [S, D, b, H], Y_h: [D, b, H], Y_c: [D, b, H] };
}

const allOutputs = (s: RnnSpec): RnnOutput[] => (s.kind === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h']);

/** The model at `layout` (the spec's unless given): weights from the seed, so both layouts hold the same ones. */
export function rnnModel(s: RnnSpec, layout: 0 | 1 = s.layout ?? 0): Uint8Array {
  const rng = new Lcg(s.seed ?? 1);
  const [D, G, H, I] = [dirs(s), GATES[s.kind], s.hidden, s.input];
  const sh = shapes(s, layout, s.fixedBatch ? s.batch : 'batch');
  const dbl = s.double ?? false;
  const initializer = [floats('W', [D, G * H, I], rng.array(D * G * H * I, -0.6, 0.6), dbl), floats('R', [D, G * H, H], rng.array(D * G * H * H, -0.6, 0.6), dbl)];
  if (s.bias !== false) initializer.push(floats('B', [D, 2 * G * H], rng.array(D * 2 * G * H, -0.3, 0.3), dbl));
  if (s.peepholes) initializer.push(floats('P', [D, 3 * H], rng.array(D * 3 * H, -0.5, 0.5), dbl));
  const inputs = [valueInfo('x', sh.x, dbl)];
  if (s.initial) inputs.push(valueInfo('h0', sh.state, dbl), ...(s.kind === 'LSTM' ? [valueInfo('c0', sh.state, dbl)] : []));
  if (s.weightsAsInputs) inputs.push(...initializer.splice(0).map((t) => valueInfo(t.name, t.dims, dbl)));
  const nodeInputs = ['x', 'W', 'R', s.bias !== false ? 'B' : '', '', s.initial ? 'h0' : '', s.initial && s.kind === 'LSTM' ? 'c0' : '', s.peepholes ? 'P' : ''];
  while (nodeInputs[nodeInputs.length - 1] === '') nodeInputs.pop();
  const wanted = s.outputs ?? allOutputs(s);
  const nodeOutputs = allOutputs(s).map((o) => (wanted.includes(o) ? o : ''));
  while (nodeOutputs[nodeOutputs.length - 1] === '') nodeOutputs.pop();
  const attribute: object[] = [{ name: 'hidden_size', type: A.INT, i: H }];
  if (s.direction) attribute.push({ name: 'direction', type: A.STRING, s: new TextEncoder().encode(s.direction) });
  if (layout === 1) attribute.push({ name: 'layout', type: A.INT, i: 1 });
  if (s.linearBeforeReset) attribute.push({ name: 'linear_before_reset', type: A.INT, i: 1 });
  if (s.activations) attribute.push({ name: 'activations', type: A.STRINGS, strings: s.activations.map((a) => new TextEncoder().encode(a)) });
  if (s.clip !== undefined) attribute.push({ name: 'clip', type: A.FLOAT, f: s.clip });
  const graph = {
    name: 'rnn',
    input: inputs,
    output: wanted.map((o) => valueInfo(o, sh[o], dbl)),
    initializer,
    node: [{ name: 'rnn', opType: s.kind, input: nodeInputs, output: nodeOutputs, attribute }],
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ version: 14 }], graph })).finish();
}

/** The feeds at the spec's layout: x and the initial states, seeded apart from the weights. */
export function rnnFeeds(s: RnnSpec): Record<string, Feed> {
  const rng = new Lcg((s.seed ?? 1) + 1000);
  const sh = shapes(s, s.layout ?? 0, s.batch) as Record<string, number[]>;
  const feed = (dims: number[]): Feed => ({ data: Float32Array.from(rng.array(dims.reduce((p, d) => p * d, 1), -1, 1)), dims });
  const out: Record<string, Feed> = { x: feed(sh.x) };
  if (s.initial) {
    out.h0 = feed(sh.state);
    if (s.kind === 'LSTM') out.c0 = feed(sh.state);
  }
  return out;
}

/** The first two axes of a tensor swapped ([a, b, …] → [b, a, …]). */
function swap01(data: Float32Array, dims: number[]): Feed {
  const [a, b] = dims;
  const inner = data.length / (a * b);
  const out = new Float32Array(data.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out.set(data.subarray((i * b + j) * inner, (i * b + j + 1) * inner), (j * a + i) * inner);
  return { data: out, dims: [b, a, ...dims.slice(2)] };
}

/** Feeds for the layout-0 twin of a model: batch-first tensors made sequence-first. */
export function refFeeds(s: RnnSpec, feeds: Record<string, Feed>): Record<string, Feed> {
  if ((s.layout ?? 0) === 0) return feeds;
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, swap01(v.data, v.dims)]));
}

/** A layout-0 output as the layout-1 node returns it: Y [S, D, B, H] → [B, S, D, H], states [D, B, H] → [B, D, H]. */
export function fromLayout0(s: RnnSpec, name: RnnOutput, data: Float32Array): Float32Array {
  if ((s.layout ?? 0) === 0) return data;
  const [S, D, B, H] = [s.steps, dirs(s), s.batch, s.hidden];
  if (name !== 'Y') return swap01(data, [D, B, H]).data;
  const out = new Float32Array(data.length);
  for (let t = 0; t < S; t++) for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) out.set(data.subarray(((t * D + d) * B + b) * H, ((t * D + d) * B + b + 1) * H), ((b * S + t) * D + d) * H);
  return out;
}
