// Recurrent layers of the DSL: simpleRnn, lstm and gru, unrolled over the (static) time axis by the
// cell of src/ir/recurrent.ts that the ONNX importer shares. Defaults are Keras's.
import type { Node } from '../ir/node.ts';
import type { OpName } from '../ir/ops/index.ts';
import { GATE_COUNT, GATE_ORDERS, unroll, type CellKind } from '../ir/recurrent.ts';
import { BATCH, isBatched, type Dim } from '../ir/shape.ts';
import type { InitSpec } from '../../runtime/init.ts';
import { openLayer, type LayerScope } from './context.ts';
import { biasInit, initStyle, weightInit, type InitChoice } from './init.ts';
import { fixedDim, layerError, positiveInt } from './validate.ts';

type Tensor = Node;

/** Activations a recurrent layer may use (each an op Kiln knows, with no attributes). */
const RECURRENT_ACTIVATIONS = ['tanh', 'sigmoid', 'relu'] as const satisfies readonly OpName[];
export type RecurrentActivation = (typeof RECURRENT_ACTIVATIONS)[number];

export interface RecurrentOptions {
  /** Layer name; defaults to `simplernn_k`, `lstm_k` or `gru_k` (stacked layers add `_l1`, `_l2`, …). */
  name?: string;
  /** The whole sequence [N, T, units] (true) or the last state [N, units] (false, the default). */
  returnSequences?: boolean;
  /** Also return the final states: [output, h] (simpleRnn, gru) or [output, h, c] (lstm); see `returnState`. */
  returnState?: boolean;
  /** Runs a second set of weights backwards over time and concatenates both on the feature axis. */
  bidirectional?: boolean;
  /** Initial states [N, units]: [h] or [h, c] (lstm); bidirectional: forward's then backward's. Zeros if absent. */
  initialState?: Tensor[];
  /** Stacked layers (default 1): each feeds its whole sequence to the next. */
  layers?: number;
  /** Input [N, T, F] (true, the default, Keras) or [T, B, F] with a fixed B (false, PyTorch's default). */
  batchFirst?: boolean;
  /** The column order of the gate blocks in the weights (default 'keras'). */
  gateOrder?: 'pytorch' | 'keras' | 'onnx';
  /** GRU only: the recurrent product (and its bias) before the reset gate, as PyTorch (default true, Keras's reset_after). */
  linearBeforeReset?: boolean;
  /** Output/candidate activation (default tanh). */
  activation?: RecurrentActivation;
  /** Gate activation (default sigmoid; simpleRnn has none). */
  recurrentActivation?: RecurrentActivation;
  /** Biases (default true). */
  useBias?: boolean;
  /** Default: U(±1/√units) in the PyTorch style; Glorot-uniform in the Keras style. */
  kernelInitializer?: InitChoice;
  /** Default: U(±1/√units) in the PyTorch style; orthogonal in the Keras style (Keras's default). */
  recurrentInitializer?: InitChoice;
  /** Default: U(±1/√units) in the PyTorch style; zeros in the Keras style. */
  biasInitializer?: InitChoice;
  /**
   * LSTM only: the forget gate's bias block starts at 1, the others from `biasInitializer`
   * (Keras's unit_forget_bias), in whichever `gateOrder` is chosen. Default: true in the Keras
   * style (as Keras), false in the PyTorch style (PyTorch has no such option).
   */
  unitForgetBias?: boolean;
}

const KIND_NAMES: Record<CellKind, string> = { rnn: 'SimpleRNN', lstm: 'LSTM', gru: 'GRU' };

function checkActivation(scope: LayerScope, what: string, a: string | undefined, def: RecurrentActivation): OpName {
  const v = a ?? def;
  if (!(RECURRENT_ACTIVATIONS as readonly string[]).includes(v)) throw layerError(scope, `unknown ${what} ${JSON.stringify(v)} (known: ${RECURRENT_ACTIVATIONS.join(', ')})`);
  return v as OpName;
}

/** PyTorch initialises every recurrent weight and bias U(±1/√units); Keras uses the usual fan-based kernels. */
function recurrentInit(choice: InitChoice | undefined, units: number, fallback: () => InitSpec): InitSpec {
  if (choice === undefined && initStyle() === 'pytorch') return { kind: 'uniform', low: -1 / Math.sqrt(units), high: 1 / Math.sqrt(units) };
  return fallback();
}

/**
 * An LSTM bias with Keras's unit forget bias: the forget block 1, the others `others` (which must
 * be a constant or uniform initialiser); undefined when the option is off, or is on only by
 * default and `others` is of another kind (an explicit biasInitializer then stands as given).
 */
function forgetBiasInit(scope: LayerScope, o: RecurrentOptions, others: InitSpec, gates: number): InitSpec | undefined {
  const on = o.unitForgetBias ?? initStyle() === 'keras';
  if (!on) return undefined;
  const forget = GATE_ORDERS[o.gateOrder ?? 'keras'].lstm.f;
  const range = others.kind === 'zeros' ? [0, 0] : others.kind === 'ones' ? [1, 1] : others.kind === 'constant' ? [others.value, others.value] : others.kind === 'uniform' ? [others.low, others.high] : undefined;
  if (range) return { kind: 'unitForgetBias', gates, forget, low: range[0], high: range[1] };
  if (o.unitForgetBias === undefined) return undefined;
  throw layerError(scope, `unitForgetBias needs a zeros, ones, constant or uniform biasInitializer for the other gates, got ${others.kind}`);
}

interface Direction {
  kernel: Tensor;
  recurrent: Tensor;
  bias?: Tensor;
  recurrentBias?: Tensor;
}

function directionWeights(scope: LayerScope, kind: CellKind, o: RecurrentOptions, features: number, H: number, tag: string, lbr: boolean): Direction {
  const G = GATE_COUNT[kind];
  const p = (role: string, shape: Dim[], init: InitSpec) => scope.node('param', [], { name: `${scope.name}/${tag}${role}`, dtype: 'float32', shape, init, trainable: true });
  const kernel = p('kernel', [features, G * H], recurrentInit(o.kernelInitializer, H, () => weightInit(o.kernelInitializer, features, G * H)));
  // Keras's recurrent kernels start orthogonal (the whole [units, G·units] matrix: orthonormal rows).
  const recurrentDefault = (): InitSpec => (o.recurrentInitializer === undefined ? { kind: 'orthogonal', rows: H, cols: G * H } : weightInit(o.recurrentInitializer, H, G * H));
  const recurrent = p('recurrentKernel', [H, G * H], recurrentInit(o.recurrentInitializer, H, recurrentDefault));
  if (o.useBias === false) return { kernel, recurrent };
  const b = () => recurrentInit(o.biasInitializer, H, () => biasInit(o.biasInitializer, features));
  const bias = b();
  const withForget = kind === 'lstm' ? forgetBiasInit(scope, o, bias, G) : undefined;
  return { kernel, recurrent, bias: p('bias', [G * H], withForget ?? bias), recurrentBias: lbr ? p('recurrentBias', [G * H], b()) : undefined };
}

/** One layer over a [N, T, F] (or [T, B, F]) input: every state of each direction, and the final states. */
function recurrentLayer(scope: LayerScope, kind: CellKind, x: Tensor, o: RecurrentOptions, H: number, initial: Tensor[] | undefined) {
  const batchFirst = o.batchFirst !== false;
  const timeAxis = batchFirst ? 1 : 0;
  const shape = x.type.shape;
  if (shape.length !== 3) throw layerError(scope, `needs a 3-D input (${batchFirst ? '[N, T, F]' : '[T, B, F]'}); its input has shape [${shape.join(', ')}]`);
  if (!batchFirst && isBatched(shape)) throw layerError(scope, `batchFirst: false needs an input made with batched: false, [T, B, F] with a fixed B; its input is [${shape.join(', ')}]`);
  const T = fixedDim(scope, shape, timeAxis, 'a fixed number of time steps');
  const F = fixedDim(scope, shape, 2, 'a fixed feature dimension');
  const batchDim: number = batchFirst ? -1 : (shape[1] as number);
  const G = GATE_COUNT[kind];
  const lbr = kind === 'gru' && o.linearBeforeReset !== false;
  const node = scope.node;
  const reshape = (t: Tensor, to: number[]) => node('reshape', [t], { shape: to });
  const dirs = o.bidirectional ? 2 : 1;
  const perDir = kind === 'lstm' ? 2 : 1;
  if (initial && initial.length !== perDir * dirs) throw layerError(scope, `initialState needs ${perDir * dirs} tensors (${kind === 'lstm' ? 'h, c' : 'h'}${dirs === 2 ? ' for each direction' : ''}), got ${initial.length}`);
  const stateShape: Dim[] = batchFirst ? [BATCH, H] : [batchDim, H];
  initial?.forEach((s, i) => {
    if (s.type.shape.join() !== stateShape.join()) throw layerError(scope, `initialState[${i}] must be [${stateShape.join(', ')}], got [${s.type.shape.join(', ')}]`);
  });
  const seqs: Tensor[] = [];
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  for (let d = 0; d < dirs; d++) {
    const w = directionWeights(scope, kind, o, F, H, dirs === 2 ? (d === 0 ? 'forward/' : 'backward/') : '', lbr);
    // The input projection of every step at once: [N, T, G·H] (or [T, B, G·H]).
    let xw = node('matmul', [x, w.kernel]);
    if (w.bias) xw = node('add', [xw, w.bias]);
    const run = unroll({
      kind,
      units: H,
      steps: T,
      order: GATE_ORDERS[o.gateOrder ?? 'keras'],
      emit: node,
      projection: (t) => reshape(node('slice', [xw], { starts: [t], ends: [t + 1], axes: [timeAxis], steps: [1] }), [batchDim, G * H]),
      recurrent: w.recurrent,
      transposed: false,
      linearBeforeReset: lbr,
      recurrentBias: w.recurrentBias,
      activations: { f: checkActivation(scope, 'recurrentActivation', o.recurrentActivation, kind === 'rnn' ? 'tanh' : 'sigmoid'), g: checkActivation(scope, 'activation', o.activation, 'tanh'), h: checkActivation(scope, 'activation', o.activation, 'tanh') },
      // No initial state: the cell starts from zero without building a zero tensor.
      h0: initial?.[d * perDir],
      c0: kind === 'lstm' ? initial?.[d * perDir + 1] : undefined,
      reverse: d === 1,
    });
    const steps = run.outputs.map((h) => reshape(h, batchFirst ? [-1, 1, H] : [1, batchDim, H]));
    seqs.push(T === 1 ? steps[0] : node('concat', steps, { axis: timeAxis }));
    hs.push(run.h);
    if (run.c) cs.push(run.c);
  }
  const sequence = dirs === 1 ? seqs[0] : node('concat', seqs, { axis: 2 });
  return { sequence, hs, cs };
}

function build(kind: CellKind, x: Tensor, units: number, o: RecurrentOptions): Tensor | Tensor[] {
  const scope = openLayer(KIND_NAMES[kind], o.name);
  const H = positiveInt(scope, 'units', units);
  const depth = positiveInt(scope, 'layers', o.layers ?? 1);
  if (kind !== 'gru' && o.linearBeforeReset !== undefined) throw layerError(scope, `linearBeforeReset is a GRU option`);
  if (kind !== 'lstm' && o.unitForgetBias !== undefined) throw layerError(scope, `unitForgetBias is an LSTM option`);
  if (kind === 'rnn' && o.recurrentActivation !== undefined) throw layerError(scope, `simpleRnn has no gates: use activation, not recurrentActivation`);
  let seq = x;
  let last: ReturnType<typeof recurrentLayer> | undefined;
  for (let l = 0; l < depth; l++) {
    // Stacked layers are layers of their own (own names and weights); the first keeps the given name.
    const s = l === 0 ? scope : openLayer(KIND_NAMES[kind], `${scope.name}_l${l + 1}`);
    // A simpleRnn's one activation is its `activation`: the cell applies it as the gate activation f.
    const oo = kind === 'rnn' ? { ...o, recurrentActivation: o.activation ?? 'tanh' } : o;
    last = recurrentLayer(s, kind, seq, oo, H, l === 0 ? o.initialState : undefined);
    seq = last.sequence;
  }
  const { sequence, hs, cs } = last!;
  const node = scope.node;
  const merged = (parts: Tensor[]) => (parts.length === 1 ? parts[0] : node('concat', parts, { axis: 1 }));
  const output = o.returnSequences ? sequence : merged(hs);
  if (!o.returnState) return output;
  // Keras's order: output, then each direction's states (h, c).
  return [output, ...hs.flatMap((h, d) => (kind === 'lstm' ? [h, cs[d]] : [h]))];
}

type WithState = RecurrentOptions & { returnState: true };

/** Elman RNN: h_t = tanh(x_t·W + h_{t−1}·U + b). Kernel [F, units], recurrent kernel [units, units]. */
export function simpleRnn(x: Tensor, units: number, options: WithState): Tensor[];
export function simpleRnn(x: Tensor, units: number, options?: RecurrentOptions): Tensor;
export function simpleRnn(x: Tensor, units: number, options: RecurrentOptions = {}): Tensor | Tensor[] {
  return build('rnn', x, units, options);
}

/** LSTM (Hochreiter & Schmidhuber, no peepholes): kernel [F, 4·units], recurrent kernel [units, 4·units], bias [4·units]. */
export function lstm(x: Tensor, units: number, options: WithState): Tensor[];
export function lstm(x: Tensor, units: number, options?: RecurrentOptions): Tensor;
export function lstm(x: Tensor, units: number, options: RecurrentOptions = {}): Tensor | Tensor[] {
  return build('lstm', x, units, options);
}

/** GRU: kernel [F, 3·units], recurrent kernel [units, 3·units], bias [3·units] (+ recurrentBias with linearBeforeReset). */
export function gru(x: Tensor, units: number, options: WithState): Tensor[];
export function gru(x: Tensor, units: number, options?: RecurrentOptions): Tensor;
export function gru(x: Tensor, units: number, options: RecurrentOptions = {}): Tensor | Tensor[] {
  return build('gru', x, units, options);
}
