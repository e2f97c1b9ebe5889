// ONNX export: a Kiln graph and its weights become an ONNX ModelProto, encoded with the
// protobufjs code generated from onnx.proto (npm `onnx-proto`). Inputs keep a symbolic batch
// dimension (`dim_param: "N"`), parameters and constants become initializers, and each Kiln op
// becomes the ONNX node(s) with the same meaning at the chosen opset (13 to 22).
import type { DType } from '../ir/dtype.ts';
import { KilnError } from '../ir/errors.ts';
import { graphNodes, type Graph } from '../ir/graph.ts';
import type { Node } from '../ir/node.ts';
import { BATCH, numel, type Dim } from '../ir/shape.ts';
import { COMPILER_VERSION } from '../version.ts';
import { onnx } from './proto.ts';

export interface ExportOptions {
  /** Default-domain opset the file imports (13 to 22; default 17). */
  opset?: number;
  /** Producer name written into the file. */
  producerName?: string;
}

const MIN_OPSET = 13;
const MAX_OPSET = 22;

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

const ELEM_TYPE: Record<DType, number> = { float32: T.FLOAT, float64: T.DOUBLE, int32: T.INT32 };

type Attribute = { name: string; type: number; i?: number; f?: number; s?: Uint8Array; ints?: number[] };
const intAttr = (name: string, i: number): Attribute => ({ name, type: A.INT, i });
const floatAttr = (name: string, f: number): Attribute => ({ name, type: A.FLOAT, f });
const intsAttr = (name: string, ints: readonly number[]): Attribute => ({ name, type: A.INTS, ints: [...ints] });
const stringAttr = (name: string, s: string): Attribute => ({ name, type: A.STRING, s: new TextEncoder().encode(s) });

interface OnnxNode {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
}

interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

const bytesOf = (a: Float32Array | Float64Array | Int32Array | BigInt64Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

/** The IR version that goes with an opset (onnx/helper.py's table). */
function irVersionFor(opset: number): number {
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function valueInfo(name: string, dtype: DType, shape: readonly Dim[]) {
  return {
    name,
    type: { tensorType: { elemType: ELEM_TYPE[dtype], shape: { dim: shape.map((d) => (d === BATCH ? { dimParam: 'N' } : { dimValue: d })) } } },
  };
}

/**
 * Exports a graph with its weights (by parameter name, as in a Kiln weight file) to ONNX bytes.
 * Ops without an ONNX counterpart here are a KilnError naming the op and its layer.
 */
export function exportOnnx(graph: Graph, weights: Readonly<Record<string, Float32Array>>, options: ExportOptions = {}): Uint8Array {
  const opset = options.opset ?? 17;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new KilnError(`ONNX export supports opsets ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`);
  }
  // Interned string tensors (strings.ts) would come out as int32 ids, and the dictionary lost.
  if (graph.inputs[0]?.attrs.strings) throw new KilnError(`cannot export to ONNX: graph '${graph.name}' has string tensors (interned to int32 ids)`);
  const nodes = graphNodes(graph);
  const used = new Set<string>();
  const unique = (base: string): string => {
    const root = base || 'value';
    let name = root;
    for (let k = 1; used.has(name); k++) name = `${root}_${k}`;
    used.add(name);
    return name;
  };
  const reserve = (name: string, what: string) => {
    if (used.has(name)) throw new KilnError(`cannot export to ONNX: ${what} '${name}' has the name of another graph input or output`);
    used.add(name);
  };

  const nameOf = new Map<Node, string>();
  const onnxNodes: OnnxNode[] = [];
  const initializers: Initializer[] = [];
  const inputs = [];

  // Graph inputs keep their names; graph outputs too (reserved now, bound to their values below).
  for (const n of graph.inputs) {
    const name = String(n.attrs.name ?? '');
    reserve(name, 'input');
    nameOf.set(n, name);
    inputs.push(valueInfo(name, n.type.dtype, n.type.shape));
  }
  /** Output name each node's value takes directly (the first output that names a computed node). */
  const outputName = new Map<Node, string>();
  for (const o of graph.outputs) {
    reserve(o.name, 'output');
    if (o.node.op !== 'input' && !outputName.has(o.node)) outputName.set(o.node, o.name);
  }

  const addNode = (opType: string, input: string[], attribute: Attribute[] = [], output?: string, base?: string): string => {
    const out = output ?? unique(base ?? opType);
    onnxNodes.push({ name: unique(`${base ?? opType}/${opType}`), opType, input, output: [out], attribute });
    return out;
  };
  const initializer = (base: string, dtype: DType | 'int64', dims: number[], data: ArrayLike<number>): string => {
    const name = unique(base);
    const typed =
      dtype === 'int64'
        ? BigInt64Array.from(Array.from(data), (v) => BigInt(v))
        : dtype === 'float64'
          ? Float64Array.from(data)
          : dtype === 'int32'
            ? Int32Array.from(data)
            : Float32Array.from(data);
    initializers.push({ name, dims, dataType: dtype === 'int64' ? T.INT64 : ELEM_TYPE[dtype], rawData: bytesOf(typed) });
    return name;
  };
  const ints64 = (base: string, values: readonly number[]) => initializer(base, 'int64', [values.length], values);
  const scalar = (base: string, dtype: DType, v: number) => initializer(base, dtype, [], [v]);

  for (const n of nodes) {
    if (nameOf.has(n)) continue;
    const layer = n.meta.layer ?? n.op;
    const base = `${layer}/${n.op}`;
    const x = n.inputs.map((i) => nameOf.get(i)!);
    const dtype = n.type.dtype;
    const a = n.attrs as Record<string, any>;
    // The value this node produces takes the graph output's name when it is one.
    const target = outputName.get(n);
    const emit = (opType: string, input: string[], attribute: Attribute[] = []) => addNode(opType, input, attribute, target, base);
    const fail = (why: string): never => {
      throw new KilnError(`cannot export to ONNX: ${n.meta.layer ? `layer '${n.meta.layer}' ` : ''}(${n.op}): ${why}`);
    };
    let out: string;
    switch (n.op) {
      case 'param': {
        const pname = String(a.name);
        const data = Object.hasOwn(weights, pname) ? weights[pname] : fail(`no weights for parameter '${pname}'`);
        const count = numel(n.type.shape);
        if (data.length !== count) fail(`parameter '${pname}' has ${data.length} values, its shape [${n.type.shape.join(', ')}] needs ${count}`);
        const name = initializer(pname, dtype, n.type.shape as number[], data);
        out = target ? addNode('Identity', [name], [], target, base) : name;
        break;
      }
      case 'const': {
        const values = a.values as number[];
        const count = numel(n.type.shape);
        const data = values.length === count ? values : Array.from({ length: count }, () => values[0]);
        const name = initializer(n.meta.layer ? `${n.meta.layer}/const` : 'const', dtype, n.type.shape as number[], data);
        out = target ? addNode('Identity', [name], [], target, base) : name;
        break;
      }
      case 'matmul': {
        const swap = (input: string, rank: number) => {
          const perm = Array.from({ length: rank }, (_, i) => i);
          [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
          return addNode('Transpose', [input], [intsAttr('perm', perm)], undefined, base);
        };
        const lhs = a.transA ? swap(x[0], n.inputs[0].type.shape.length) : x[0];
        const rhs = a.transB ? swap(x[1], n.inputs[1].type.shape.length) : x[1];
        out = emit('MatMul', [lhs, rhs]);
        break;
      }
      case 'add':
      case 'sub':
      case 'mul':
      case 'div':
      case 'pow':
      case 'maximum':
      case 'minimum': {
        const op = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', pow: 'Pow', maximum: 'Max', minimum: 'Min' }[n.op];
        out = emit(op, x);
        break;
      }
      case 'neg':
      case 'abs':
      case 'exp':
      case 'log':
      case 'sqrt':
      case 'erf':
      case 'relu':
      case 'sigmoid':
      case 'tanh':
      case 'softplus':
      case 'identity':
      case 'dropout': {
        const op = {
          neg: 'Neg', abs: 'Abs', exp: 'Exp', log: 'Log', sqrt: 'Sqrt', erf: 'Erf', relu: 'Relu', sigmoid: 'Sigmoid',
          tanh: 'Tanh', softplus: 'Softplus', identity: 'Identity', dropout: 'Identity',
        }[n.op];
        out = emit(op, x);
        break;
      }
      case 'leakyRelu':
        out = emit('LeakyRelu', x, [floatAttr('alpha', a.alpha)]);
        break;
      case 'elu':
        out = emit('Elu', x, [floatAttr('alpha', a.alpha)]);
        break;
      case 'selu':
        out = emit('Selu', x, [floatAttr('alpha', 1.6732632423543772), floatAttr('gamma', 1.0507009873554805)]);
        break;
      case 'gelu': {
        const approximate = a.approximate === 'tanh' ? 'tanh' : 'none';
        if (opset >= 20) {
          out = emit('Gelu', x, [stringAttr('approximate', approximate)]);
          break;
        }
        // Gelu arrives in opset 20: before it, the same formula from primitive nodes.
        const c = (v: number) => scalar(`${layer}/gelu_const`, dtype, v);
        let inner: string;
        if (approximate === 'tanh') {
          const cube = addNode('Mul', [x[0], addNode('Mul', [x[0], x[0]], [], undefined, base)], [], undefined, base);
          const sum = addNode('Add', [x[0], addNode('Mul', [cube, c(0.044715)], [], undefined, base)], [], undefined, base);
          inner = addNode('Tanh', [addNode('Mul', [sum, c(Math.sqrt(2 / Math.PI))], [], undefined, base)], [], undefined, base);
        } else {
          inner = addNode('Erf', [addNode('Mul', [x[0], c(Math.SQRT1_2)], [], undefined, base)], [], undefined, base);
        }
        const onePlus = addNode('Add', [inner, c(1)], [], undefined, base);
        const half = addNode('Mul', [x[0], c(0.5)], [], undefined, base);
        out = emit('Mul', [half, onePlus]);
        break;
      }
      case 'clip': {
        const bound = (v: number | null | undefined, which: string) => (v === undefined || v === null ? '' : scalar(`${layer}/${which}`, dtype, v));
        const min = bound(a.min, 'min');
        const max = bound(a.max, 'max');
        out = emit('Clip', max ? [x[0], min, max] : min ? [x[0], min] : [x[0]]);
        break;
      }
      case 'cast':
        out = emit('Cast', x, [intAttr('to', ELEM_TYPE[a.to as DType])]);
        break;
      case 'softmax':
        out = emit('Softmax', x, [intAttr('axis', a.axis)]);
        break;
      case 'logSoftmax':
        out = emit('LogSoftmax', x, [intAttr('axis', a.axis)]);
        break;
      case 'conv2d': {
        const w = n.inputs[1].type.shape as number[];
        out = emit('Conv', x, [
          intsAttr('kernel_shape', [w[2], w[3]]),
          intsAttr('strides', a.strides),
          intsAttr('pads', a.pads), // Kiln's [top, left, bottom, right] is ONNX's [x1_begin, x2_begin, x1_end, x2_end]
          intsAttr('dilations', a.dilations),
          intAttr('group', a.group),
        ]);
        break;
      }
      case 'maxPool2d':
        out = emit('MaxPool', x, [intsAttr('kernel_shape', a.kernel), intsAttr('strides', a.strides), intsAttr('pads', a.pads), intsAttr('dilations', a.dilations)]);
        break;
      case 'avgPool2d': {
        const attrs = [intsAttr('kernel_shape', a.kernel), intsAttr('strides', a.strides), intsAttr('pads', a.pads), intAttr('count_include_pad', a.countIncludePad ? 1 : 0)];
        if ((a.dilations as number[]).some((d) => d !== 1)) {
          if (opset < 19) fail(`AveragePool takes dilations only from opset 19 (exporting at opset ${opset})`);
          attrs.push(intsAttr('dilations', a.dilations));
        }
        out = emit('AveragePool', x, attrs);
        break;
      }
      case 'globalAvgPool':
        out = emit('GlobalAveragePool', x);
        break;
      case 'reshape': {
        // The resolved shape, with a leading batch dimension as -1 (ONNX infers it).
        const shape = n.type.shape.map((d) => (d === BATCH ? -1 : d));
        const attrs = opset >= 14 && shape.includes(0) ? [intAttr('allowzero', 1)] : [];
        out = emit('Reshape', [x[0], ints64(`${layer}/shape`, shape)], attrs);
        break;
      }
      case 'transpose':
        out = emit('Transpose', x, [intsAttr('perm', a.perm)]);
        break;
      case 'concat':
        out = emit('Concat', x, [intAttr('axis', a.axis)]);
        break;
      case 'slice': {
        const input = [x[0], ints64(`${layer}/starts`, a.starts), ints64(`${layer}/ends`, a.ends)];
        const axes: number[] = a.axes ?? (a.starts as number[]).map((_: number, i: number) => i);
        input.push(ints64(`${layer}/axes`, axes));
        if (a.steps) input.push(ints64(`${layer}/steps`, a.steps));
        out = emit('Slice', input);
        break;
      }
      case 'reduceSum':
      case 'reduceMean':
      case 'reduceMax':
      case 'reduceMin': {
        const op = { reduceSum: 'ReduceSum', reduceMean: 'ReduceMean', reduceMax: 'ReduceMax', reduceMin: 'ReduceMin' }[n.op];
        const axes = a.axes as number[];
        const attrs = [intAttr('keepdims', a.keepdims ? 1 : 0)];
        const axesAsInput = n.op === 'reduceSum' ? opset >= 13 : opset >= 18;
        const input = [x[0]];
        // Empty axes: every axis, which is what ONNX does when no axes are given.
        if (axes.length > 0) {
          if (axesAsInput) input.push(ints64(`${layer}/axes`, axes));
          else attrs.push(intsAttr('axes', axes));
        }
        out = emit(op, input, attrs);
        break;
      }
      case 'argmax': {
        // ONNX ArgMax gives int64; Kiln's argmax is int32.
        const idx = addNode('ArgMax', x, [intAttr('axis', a.axis), intAttr('keepdims', a.keepdims ? 1 : 0)], undefined, base);
        out = emit('Cast', [idx], [intAttr('to', T.INT32)]);
        break;
      }
      case 'batchNorm':
        out = emit('BatchNormalization', x, [floatAttr('epsilon', a.epsilon)]);
        break;
      case 'input':
        fail(`input node '${String(a.name)}' is not one of the graph's inputs`);
        break;
      default:
        fail(`op '${n.op}' has no ONNX export`);
    }
    nameOf.set(n, out!);
  }

  const outputs = graph.outputs.map((o) => {
    const value = nameOf.get(o.node)!;
    // An output that is a graph input, or a second output of one node, needs a value of its own.
    if (value !== o.name) addNode('Identity', [value], [], o.name, o.name);
    return valueInfo(o.name, o.node.type.dtype, o.node.type.shape);
  });

  const model = onnx.ModelProto.create({
    irVersion: irVersionFor(opset),
    producerName: options.producerName ?? 'kiln',
    producerVersion: COMPILER_VERSION,
    opsetImport: [{ domain: '', version: opset }],
    graph: onnx.GraphProto.create({ name: graph.name, node: onnxNodes, initializer: initializers, input: inputs, output: outputs }),
  });
  return onnx.ModelProto.encode(model).finish();
}
