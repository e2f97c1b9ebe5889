// ONNX export: a Kiln graph and its weights become an ONNX ModelProto, encoded with Kiln's
// protobuf codec for onnx.proto (proto.ts). Inputs keep a symbolic batch
// dimension (`dim_param: "N"`), parameters and constants become initializers, and each Kiln op
// becomes the ONNX node(s) with the same meaning at the chosen opset (13 to 22); a scan's body
// becomes a subgraph, written by the same graph writer.
import type { DType } from '../ir/dtype.ts';
import { internal, KilnError } from '../ir/errors.ts';
import type { Graph } from '../ir/graph.ts';
import type { Node } from '../ir/node.ts';
import { BATCH, type Dim } from '../ir/shape.ts';
import { COMPILER_VERSION } from '../version.ts';
import type { OpName } from '../ir/ops/index.ts';
import { type Attribute, type BodyProto, ELEM_TYPE, type ExportCtx, type ExportRule, isExportRule, type NoOnnxEquivalent } from './export-context.ts';
import { liveNodes, planGraph } from './export-cell-plan.ts';
import { EXPORT_RULES } from './export-rules.ts';
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

/** One node through its entry of the export table. */
function exportNode(c: ExportCtx): string {
  const op = c.node.op as OpName;
  const entry = EXPORT_RULES[op] as ExportRule<unknown> | NoOnnxEquivalent;
  if (!isExportRule(entry)) return c.fail(`op '${op}' has no ONNX export: ${entry.noOnnxEquivalent}`);
  return entry(c, c.node.attrs);
}

/** What the whole model shares while its graphs are written: the opset, the weights, one value namespace. */
interface ModelScope {
  readonly opset: number;
  readonly weights: Readonly<Record<string, Float32Array>>;
  unique(base: string): string;
  reserve(name: string, what: string): void;
}

/** One ONNX graph's parts (the top graph, or a loop body). */
interface GraphParts {
  node: OnnxNode[];
  initializer: Initializer[];
  /** ONNX value names of the Kiln graph's outputs, in order. */
  outputs: string[];
}

/**
 * Writes a Kiln graph's nodes. `named` gives the ONNX names of nodes named already (the graph's
 * inputs; a body's inputs and the outer values it reads); `outputName` the names the graph's
 * output values should take directly. Iterative: each nested body is one call of its own.
 */
function writeGraph(graph: Graph, m: ModelScope, named: ReadonlyMap<Node, string>, outputName: ReadonlyMap<Node, string>): GraphParts {
  const { unique, opset, weights } = m;
  const nameOf = new Map<Node, string>(named);
  const onnxNodes: OnnxNode[] = [];
  const initializers: Initializer[] = [];
  const addNode = (opType: string, input: string[], attribute: Attribute[] = [], output?: string, base?: string, count = 1): string[] => {
    const outs = Array.from({ length: count }, (_, k) => (k === 0 && output ? output : unique(base ?? opType)));
    onnxNodes.push({ name: unique(`${base ?? opType}/${opType}`), opType, input, output: outs, attribute });
    return outs;
  };
  const initializer = (base: string, dtype: DType | 'int64', dims: readonly number[], data: ArrayLike<number>): string => {
    const name = unique(base);
    const typed =
      dtype === 'int64'
        ? BigInt64Array.from(Array.from(data), (v) => BigInt(v))
        : dtype === 'float64'
          ? Float64Array.from(data)
          : dtype === 'int32'
            ? Int32Array.from(data)
            : Float32Array.from(data);
    initializers.push({ name, dims: [...dims], dataType: dtype === 'int64' ? T.INT64 : ELEM_TYPE[dtype], rawData: bytesOf(typed) });
    return name;
  };
  const ints64 = (base: string, values: readonly number[]) => initializer(base, 'int64', [values.length], values);
  const scalar = (base: string, dtype: DType, v: number) => initializer(base, dtype, [], [v]);
  const plan = planGraph(graph, weights);
  let batch: string | undefined;

  for (const n of liveNodes(graph, plan)) {
    if (nameOf.has(n)) continue;
    const layer = n.meta.layer ?? n.op;
    const base = `${layer}/${n.op}`;
    // The value this node produces takes the graph output's name when it is one.
    const target = outputName.get(n);
    const ctx: ExportCtx = {
      node: n,
      opset,
      x: n.inputs.map((i) => nameOf.get(i) ?? ''),
      valueOf: (k) => nameOf.get(k) ?? internal(`ONNX export: node %${k.id} (${k.op}) read before it was written`),
      layer,
      weights,
      plan,
      emit: (opType, input, attribute = []) => addNode(opType, [...input], attribute, target, base)[0],
      existing: (name) => (target ? addNode('Identity', [name], [], target, base)[0] : name),
      add: (opType, input, attribute = []) => addNode(opType, [...input], attribute, undefined, base)[0],
      addMany: (opType, input, attribute, count) => addNode(opType, [...input], attribute, undefined, base, count),
      initializer,
      ints64,
      scalar,
      batchSize: () => {
        const from = graph.inputs.find((i) => i.type.shape[0] === BATCH);
        if (!from) return ctx.fail(`needs the batch size, but graph '${graph.name}' has no input with a batch dimension`);
        batch ??= addNode('Slice', [addNode('Shape', [nameOf.get(from)!], [], undefined, 'batch')[0], ints64('batch/starts', [0]), ints64('batch/ends', [1]), ints64('batch/axes', [0])], [], undefined, 'batch')[0];
        return batch;
      },
      subgraph: (body, outer, outputs) => writeBody(body, m, outer, outputs),
      fail: (why) => {
        throw new KilnError(`cannot export to ONNX: ${n.meta.layer ? `layer '${n.meta.layer}' ` : ''}(${n.op}): ${why}`);
      },
    };
    const restacked = plan.restacks.get(n);
    nameOf.set(n, restacked ? ctx.existing(nameOf.get(restacked)!) : exportNode(ctx));
  }
  const outputs = graph.outputs.map((o) => nameOf.get(o.node)!);
  return { node: onnxNodes, initializer: initializers, outputs };
}

/**
 * A loop body as an ONNX subgraph: inputs with `outer[i]` undefined become the subgraph's own
 * inputs (fresh names); the others read that outer value by name (ONNX's outer scope). The
 * subgraph's outputs are the body's outputs listed in `outputs` (an index may repeat: each
 * repeat is an Identity of its own, as ONNX output names are distinct).
 */
function writeBody(body: Graph, m: ModelScope, outer: readonly (string | undefined)[], outputs: readonly number[]): BodyProto {
  const named = new Map<Node, string>();
  const inputs: ReturnType<typeof valueInfo>[] = [];
  body.inputs.forEach((n, i) => {
    const given = outer[i];
    const name = given ?? m.unique(`${body.name}/${String(n.attrs.name ?? 'in')}`);
    named.set(n, name);
    if (given === undefined) inputs.push(valueInfo(name, n.type.dtype, n.type.shape));
  });
  // The first listing of a computed output takes its name directly; repeats and inputs get an Identity.
  const direct = new Map<Node, string>();
  for (const k of new Set(outputs)) {
    const node = body.outputs[k].node;
    if (!named.has(node) && !direct.has(node)) direct.set(node, m.unique(`${body.name}/${body.outputs[k].name}`));
  }
  const parts = writeGraph(body, m, named, direct);
  const taken = new Set<string>();
  const outs = outputs.map((k) => {
    const o = body.outputs[k];
    let name = parts.outputs[k];
    if (taken.has(name) || named.has(o.node)) {
      name = m.unique(`${body.name}/${o.name}`);
      parts.node.push({ name: m.unique(`${name}/Identity`), opType: 'Identity', input: [parts.outputs[k]], output: [name], attribute: [] });
    }
    taken.add(name);
    return valueInfo(name, o.node.type.dtype, o.node.type.shape);
  });
  return onnx.GraphProto.create({ name: m.unique(body.name), node: parts.node, initializer: parts.initializer, input: inputs, output: outs });
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
  if (graph.strings) throw new KilnError(`cannot export to ONNX: graph '${graph.name}' has string tensors (interned to int32 ids)`);
  const used = new Set<string>();
  const m: ModelScope = {
    opset,
    weights,
    unique: (base) => {
      const root = base || 'value';
      let name = root;
      for (let k = 1; used.has(name); k++) name = `${root}_${k}`;
      used.add(name);
      return name;
    },
    reserve: (name, what) => {
      if (used.has(name)) throw new KilnError(`cannot export to ONNX: ${what} '${name}' has the name of another graph input or output`);
      used.add(name);
    },
  };

  // Graph inputs keep their names; graph outputs too (reserved now, bound to their values below).
  const named = new Map<Node, string>();
  const inputs = [];
  for (const n of graph.inputs) {
    const name = String(n.attrs.name ?? '');
    m.reserve(name, 'input');
    named.set(n, name);
    inputs.push(valueInfo(name, n.type.dtype, n.type.shape));
  }
  /** Output name each node's value takes directly (the first output that names a computed node). */
  const outputName = new Map<Node, string>();
  for (const o of graph.outputs) {
    m.reserve(o.name, 'output');
    if (o.node.op !== 'input' && !outputName.has(o.node)) outputName.set(o.node, o.name);
  }
  const parts = writeGraph(graph, m, named, outputName);
  const outputs = graph.outputs.map((o, i) => {
    const value = parts.outputs[i];
    // An output that is a graph input, or a second output of one node, needs a value of its own.
    if (value !== o.name) parts.node.push({ name: m.unique(`${o.name}/Identity`), opType: 'Identity', input: [value], output: [o.name], attribute: [] });
    return valueInfo(o.name, o.node.type.dtype, o.node.type.shape);
  });

  const model = onnx.ModelProto.create({
    irVersion: irVersionFor(opset),
    producerName: options.producerName ?? 'kiln',
    producerVersion: COMPILER_VERSION,
    opsetImport: [{ domain: '', version: opset }],
    graph: onnx.GraphProto.create({ name: graph.name, node: parts.node, initializer: parts.initializer, input: inputs, output: outputs }),
  });
  return onnx.ModelProto.encode(model).finish();
}
