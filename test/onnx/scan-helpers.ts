// Recurrent models built as scans, as the DSL layers and the ONNX importer build them (one scan
// per direction over recurrent.ts's cellBody, the input projection X·K + b outside the loop),
// with random weights; and the helpers the scan export tests share: run in onnxruntime-node,
// the node types of an exported file.
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import type { OpName } from '../../src/ir/ops/index.ts';
import { carryWidth, cellBody, GATE_COUNT, GATE_ORDERS, type CellKind } from '../../src/ir/recurrent.ts';
import type { Dim } from '../../src/ir/shape.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { rnnScan } from '../ir/scan-fixtures.ts';
import { randomFloats } from '../e2e/helpers.ts';

export type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node, or undefined where its native binding cannot load. */
export async function loadOrt(): Promise<Ort | undefined> {
  try {
    return await import('onnxruntime-node');
  } catch {
    return undefined;
  }
}

export interface CellOptions {
  kind: CellKind;
  units: number;
  order?: 'keras' | 'pytorch' | 'onnx';
  reverse?: boolean;
  /** GRU: the recurrent product and its bias inside the reset. */
  linearBeforeReset?: boolean;
  activations?: { f: OpName; g: OpName; h: OpName };
  /** The recurrent weights as ONNX's R, [G·H, H], and the kernel as W, [G·H, F] (the importer's layout). */
  onnxLayout?: boolean;
  /** The initial carry: a graph input of this name, or zero (an expand of a zero constant). */
  initial?: string;
  /** Final carry only (false), or every step's carry (true). */
  stack: boolean;
  /** x is [T, B, F] (PyTorch's sequence-first layout): the projection is transposed into the scan. */
  sequenceFirst?: boolean;
  /** LSTM peepholes (the importer's), in ONNX's i, o, f order. */
  peepholes?: boolean;
  clip?: number;
}

/** A model under construction: its inputs and weights grow as layers are added. */
export class ModelBuilder {
  readonly inputs: Node[] = [];
  readonly weights: Record<string, Float32Array> = {};
  private seed = 1;

  input(name: string, shape: Dim[]): Node {
    const n = makeNode('input', [], { name, dtype: 'float32', shape });
    this.inputs.push(n);
    return n;
  }

  param(name: string, shape: number[], scale = 0.6): Node {
    this.weights[name] = randomFloats(shape.reduce((p, d) => p * d, 1), this.seed++, -scale, scale);
    return makeNode('param', [], { name, dtype: 'float32', shape, init: { kind: 'zeros' }, trainable: true }, { layer: name.split('/')[0] });
  }

  /** One direction of a recurrent layer over x [N, T, F]: the scan node (carry packed h|c for an LSTM). */
  cell(name: string, x: Node, o: CellOptions): Node {
    const [T, F] = o.sequenceFirst ? [x.type.shape[0] as number, x.type.shape[2] as number] : [x.type.shape[1] as number, x.type.shape[2] as number];
    const rows: Dim = o.sequenceFirst ? x.type.shape[1] : 'N';
    const H = o.units;
    const G = GATE_COUNT[o.kind];
    const kernel = this.param(`${name}/kernel`, o.onnxLayout ? [G * H, F] : [F, G * H]);
    const recurrent = this.param(`${name}/recurrentKernel`, o.onnxLayout ? [G * H, H] : [H, G * H]);
    const bias = this.param(`${name}/bias`, [G * H]);
    const lbr = o.kind === 'gru' && (o.linearBeforeReset ?? false);
    const recurrentBias = lbr ? this.param(`${name}/recurrentBias`, [G * H]) : undefined;
    const peepholes = o.peepholes ? this.param(`${name}/peepholes`, [3 * H]) : undefined;
    const emit = (op: OpName, inputs: readonly Node[], attrs?: Record<string, unknown>) => makeNode(op, inputs, attrs, { layer: name });
    const projected = emit('add', [emit('matmul', [x, kernel], { transB: o.onnxLayout ?? false }), bias]);
    const xw = o.sequenceFirst ? emit('transpose', [projected], { perm: [1, 0, 2] }) : projected;
    const order = o.order ?? 'keras';
    const acts = o.activations ?? { f: o.kind === 'rnn' ? 'tanh' : 'sigmoid', g: 'tanh', h: 'tanh' };
    const { body, invariants } = cellBody(
      { kind: o.kind, units: H, order: GATE_ORDERS[order], emit, recurrent, transposed: o.onnxLayout ?? false, linearBeforeReset: lbr, recurrentBias, peepholes, activations: acts, clip: o.clip },
      { dtype: 'float32', shape: [rows, G * H] },
    );
    const W = carryWidth(o.kind, H);
    const initial = o.initial ? this.input(o.initial, [rows, W]) : emit('expand', [makeNode('const', [], { dtype: 'float32', shape: [], values: [0] })], { shape: [rows, W] });
    const gateOrder = o.kind === 'rnn' ? '' : o.kind === 'lstm' ? (order === 'onnx' ? 'iofc' : 'ifco') : order === 'pytorch' ? 'rzh' : 'zrh';
    const cell = { kind: o.kind, hiddenSize: H, gateOrder, linearBeforeReset: lbr, direction: o.reverse ? 'reverse' : 'forward' };
    return emit('scan', [initial, xw, ...invariants], { body, steps: T, reverse: o.reverse ?? false, sequenceCount: 1, stack: o.stack, cell });
  }

  graph(name: string, outputs: Record<string, Node>): Graph {
    return { name, inputs: this.inputs, outputs: Object.entries(outputs).map(([n, node]) => ({ name: n, node })) };
  }
}

const slice = (x: Node, axes: number[], starts: number[], ends: number[]) => makeNode('slice', [x], { starts, ends, axes });

/** A stacked scan's h at every step, [N, T, H] (an LSTM's carry is h|c). */
export const hSequence = (scan: Node, kind: CellKind, H: number): Node => (kind === 'lstm' ? slice(scan, [2], [0], [H]) : scan);

/** A stacked scan's state at its final step (time T−1, or 0 when reversed): h or c, [N, H]. */
export function finalOfStacked(scan: Node, which: 'h' | 'c', H: number, reverse: boolean): Node {
  const T = scan.type.shape[1] as number;
  const t = reverse ? 0 : T - 1;
  const from = which === 'h' ? 0 : H;
  return makeNode('reshape', [slice(scan, [1, 2], [t, from], [t + 1, from + H])], { shape: [-1, H] });
}

/** Node types of an exported ONNX file's top graph, in order. */
export function nodeTypes(bytes: Uint8Array): string[] {
  return (onnx.ModelProto.decode(bytes).graph?.node ?? []).map((n) => n.opType ?? '');
}

/** Runs an ONNX file in onnxruntime-node on float32 feeds. */
export async function runOrt(ort: Ort, bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  const tensors = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)]));
  const result = await session.run(tensors);
  return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.data as Float32Array]));
}

