// ONNX import: a ModelProto (decoded by Kiln's protobuf codec for onnx.proto, proto.ts) becomes a
// Kiln graph. Each ONNX op is one entry of the table in `ops.ts`; this file walks the graph,
// keeps values by name, and turns initializers and Constant nodes into `const` nodes.
import { makeNode } from '../ir/build.ts';
import type { DType } from '../ir/dtype.ts';
import { KilnError, UnsupportedError } from '../ir/errors.ts';
import type { Graph, GraphOutput } from '../ir/graph.ts';
import type { Node, NodeMeta } from '../ir/node.ts';
import { decodeMessage, int64, onnx, OnnxFormatError, type AttributeProto, type Int64, type ModelProto, type NodeProto, type ValueInfoProto } from './proto.ts';
import { decodeTensor, dtypeName, kilnDType, toKilnArray, type TensorValue } from './tensor.ts';
import { ONNX_OPS, type OnnxContext } from './ops.ts';
import { foldConstant } from './fold.ts';
import { attributeType, checkAttributeTypes } from './attr-types.ts';
import { own } from '../ir/own.ts';
import { decodeStrings, internStrings, STRING, stringInterner, stringOutputs, withStringBoundary } from './strings.ts';

export interface ImportOptions {
  /** Concrete shapes for graph inputs whose dims the file leaves symbolic (or to override them). */
  inputShapes?: Readonly<Record<string, readonly number[]>>;
  /**
   * Values of graph inputs to specialise on: where an op needs one of them at compile time (a
   * Reshape's shape, a ReduceSum's axes, Slice bounds…) this value is used. The input stays an
   * input of the compiled model, which is then correct only when fed these same values.
   */
  inputValues?: Readonly<Record<string, TensorValue>>;
  /** Graph name (default: the file's graph name, else `onnx_model`). */
  name?: string;
  /**
   * Float initializers used as tensors become trainable `param` nodes (so the model can be
   * fine-tuned) and their values are put here by name; otherwise they are constants.
   */
  weightsOut?: Record<string, Float32Array>;
}

/** A value in the graph being built: a node, a known constant (made into a node on first use), or a reason it is missing. */
interface Value {
  node?: Node;
  tensor?: TensorValue;
  missing?: string;
}

/** The default-domain opsets Kiln imports: every op mapping knows its semantics up to the latest. */
export const OPSET_RANGE = { min: 1, max: 25 } as const;

/** The default-domain opset the model imports; one outside OPSET_RANGE is an UnsupportedError. */
export function modelOpset(model: ModelProto): number {
  const entries = (model.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx');
  const versions = new Set(entries.map((o) => int64(o.version as Int64)));
  if (versions.size > 1) throw new OnnxFormatError(`ONNX model imports the default domain at several opsets (${[...versions].join(', ')})`);
  const opset = entries.length ? [...versions][0] : 1;
  if (!Number.isInteger(opset) || opset < OPSET_RANGE.min || opset > OPSET_RANGE.max) {
    throw new UnsupportedError(`ONNX opset ${opset} is not supported: Kiln imports opsets ${OPSET_RANGE.min} to ${OPSET_RANGE.max} of the default domain`);
  }
  return opset;
}

/** Decodes a `.onnx` file; a truncated or corrupt one is an OnnxFormatError (a KilnError). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const model = decodeMessage('ONNX model', bytes, (b) => onnx.ModelProto.decode(b));
  if (!model.graph) throw new OnnxFormatError(`ONNX model: the file holds no graph`);
  return model;
}

/** Reads an attribute into plain JS values (ints as numbers, strings decoded as UTF-8). */
function attributeValue(a: AttributeProto, type: number): unknown {
  const T = onnx.AttributeProto.AttributeType;
  switch (type) {
    case T.FLOAT:
      return a.f ?? 0;
    case T.INT:
      return int64(a.i as Int64);
    case T.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case T.TENSOR:
      return a.t;
    case T.FLOATS:
      return [...(a.floats ?? [])];
    case T.INTS:
      return (a.ints ?? []).map((v) => int64(v as Int64));
    case T.STRINGS:
      return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
    case T.GRAPH:
      return a.g; // a loop body: the op mapping imports it through the context's importBody
    default:
      return { unsupportedAttributeType: type };
  }
}

const nodeLabel = (n: NodeProto, opset: number, index: number) =>
  `node ${JSON.stringify(n.name || `#${index}`)} (${n.opType}, opset ${opset})`;

function valueInfoType(v: ValueInfoProto, options: ImportOptions): { dtype: DType; shape: number[] } {
  const name = v.name ?? '';
  const tt = v.type?.tensorType;
  if (!tt) throw new UnsupportedError(`graph input '${name}': only tensor inputs are supported`);
  // A string input is fed as strings and interned to int32 ids by the emitted module (strings.ts).
  const dtype = tt.elemType === STRING ? 'int32' : kilnDType(tt.elemType);
  if (!dtype) throw new UnsupportedError(`graph input '${name}': element type ${dtypeName(tt.elemType)} is not supported`);
  const given = options.inputShapes && own(options.inputShapes, name);
  if (given) return { dtype, shape: [...given] };
  const dims = tt.shape?.dim ?? [];
  const shape = dims.map((d, i) => {
    if (d.dimValue !== null && d.dimValue !== undefined && !d.dimParam) return int64(d.dimValue as Int64);
    throw new UnsupportedError(`graph input '${name}': dimension ${i} is symbolic (${JSON.stringify(d.dimParam ?? '?')}); pass its size (kiln: --input-shape ${name}=…; API: options.inputShapes)`);
  });
  return { dtype, shape };
}

/** Imports an ONNX model into a Kiln graph. Unsupported ops and dtypes are UnsupportedErrors naming op, node and opset. */
export function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): Graph {
  const model = decodeModel(bytes);
  return importModel(model, options);
}

export function importModel(model: ModelProto, options: ImportOptions = {}): Graph {
  const g = model.graph!;
  const opset = modelOpset(model);
  for (const o of model.opsetImport ?? []) {
    if (o.domain && o.domain !== 'ai.onnx' && (g.node ?? []).some((n) => n.domain === o.domain)) {
      throw new UnsupportedError(`operator domain '${o.domain}' is not supported`);
    }
  }
  const values = new Map<string, Value>();
  const metaOf = new Map<string, NodeMeta>();
  /** ONNX element types where the file states them (graph inputs, initializers, constants). */
  const elemTypes = new Map<string, number>();
  /** Values that are string tensors (carried as interned ids), and the model's dictionary. */
  const stringValues = new Set<string>();
  const interner = stringInterner();

  const initializerNames = new Set<string>();
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (initializerNames.has(name)) throw new OnnxFormatError(`ONNX model: two initializers are named ${JSON.stringify(name)}`);
    initializerNames.add(name);
    if (t.dataType === STRING) {
      const { dims, strings } = decodeStrings(t, 'initializer');
      values.set(name, { tensor: internStrings(interner, name, dims, strings) });
      stringValues.add(name);
    } else values.set(name, { tensor: decodeTensor(t, 'initializer') });
    elemTypes.set(name, t.dataType ?? 0);
  }
  if ((g.sparseInitializer ?? []).length) throw new UnsupportedError(`sparse initializers are not supported`);

  const inputs: Node[] = [];
  /** Who defines each value (a graph input, an initializer or a node), so a second writer is an error naming both. */
  const writers = new Map<string, string>([...initializerNames].map((name) => [name, `initializer ${JSON.stringify(name)}`]));
  for (const v of g.input ?? []) {
    const name = v.name ?? '';
    if (initializerNames.has(name)) continue; // an initializer: a constant, not a model input
    if (values.has(name)) throw new OnnxFormatError(`ONNX model: two graph inputs are named ${JSON.stringify(name)}`);
    writers.set(name, `graph input ${JSON.stringify(name)}`);
    const { dtype, shape } = valueInfoType(v, options);
    const node = makeNode('input', [], { name, dtype, shape }, { layer: name, layerKind: 'Input' });
    inputs.push(node);
    values.set(name, { node });
    elemTypes.set(name, v.type?.tensorType?.elemType ?? 0);
    if (v.type?.tensorType?.elemType === STRING) stringValues.add(name);
  }

  const constNode = (t: TensorValue, meta: NodeMeta): Node => {
    const { dtype, data } = toKilnArray(t, 'constant');
    return makeNode('const', [], { dtype, shape: [...t.dims], values: Array.from(data) }, meta);
  };
  /** An initializer or constant as a node: a trainable parameter when asked for and float. */
  const initializerNode = (name: string, t: TensorValue, meta: NodeMeta): Node => {
    const out = options.weightsOut;
    const { dtype, data } = toKilnArray(t, 'constant');
    if (!out || !initializerNames.has(name) || dtype !== 'float32' || data.length < 2) return constNode(t, meta);
    // defineProperty: an initializer named "__proto__" is a key like any other, not the prototype.
    Object.defineProperty(out, name, { value: Float32Array.from(data as ArrayLike<number>), enumerable: true, writable: true, configurable: true });
    return makeNode('param', [], { name, dtype, shape: [...t.dims], init: { kind: 'zeros' }, trainable: true }, meta);
  };
  const nodeOf = (name: string, user: string): Node => {
    const v = values.get(name);
    if (!v) throw new OnnxFormatError(`${user} reads '${name}', which no node, input or initializer defines`);
    if (v.missing) throw new UnsupportedError(`${user} reads '${name}': ${v.missing}`);
    if (!v.node) v.node = initializerNode(name, v.tensor!, metaOf.get(name) ?? { layer: name, layerKind: 'Initializer' });
    return v.node;
  };

  const usedNames = new Set<string>();
  (g.node ?? []).forEach((n, index) => {
    const opType = n.opType ?? '';
    const label = nodeLabel(n, opset, index);
    if (n.domain && n.domain !== 'ai.onnx') throw new UnsupportedError(`${label}: domain '${n.domain}' is not supported`);
    const impl = Object.prototype.hasOwnProperty.call(ONNX_OPS, opType) ? ONNX_OPS[opType] : undefined;
    if (!impl) throw new UnsupportedError(`${label}: op ${opType} is not supported`);
    let layer = n.name || `${opType}_${index}`;
    while (usedNames.has(layer)) layer += '_';
    usedNames.add(layer);
    const meta: NodeMeta = { layer, layerKind: opType };
    checkAttributeTypes(opType, label, n.attribute ?? []);
    for (const name of n.output ?? []) {
      if (!name) continue;
      const first = writers.get(name);
      if (first !== undefined) throw new OnnxFormatError(`${label} writes ${JSON.stringify(name)}, which ${first} already defines: an ONNX value has one writer`);
      writers.set(name, label);
    }
    const attrs = new Map<string, unknown>((n.attribute ?? []).map((a) => [a.name ?? '', attributeValue(a, attributeType(opType, a))]));
    const inputNames = n.input ?? [];
    const ctx: OnnxContext = {
      opType,
      opset,
      label,
      count: inputNames.length,
      has: (i) => i < inputNames.length && inputNames[i] !== '',
      input: (i) => {
        if (!(i < inputNames.length && inputNames[i] !== '')) throw new OnnxFormatError(`${label}: input ${i} is required`);
        return nodeOf(inputNames[i], label);
      },
      constant(i) {
        if (!(i < inputNames.length && inputNames[i] !== '')) return undefined;
        const v = values.get(inputNames[i]);
        if (v?.tensor) return v.tensor;
        const fed = v?.node?.op === 'input' && options.inputValues ? own(options.inputValues, inputNames[i]) : undefined;
        if (fed) return fed;
        if (v?.node?.op === 'const') {
          const c = v.node;
          return { name: inputNames[i], onnxType: 7, dims: c.type.shape as number[], data: c.attrs.values as number[] };
        }
        return undefined;
      },
      wantsOutput: (k) => k < (n.output ?? []).length && (n.output ?? [])[k] !== '',
      elemType: (i) => (i < inputNames.length && inputNames[i] !== '' ? elemTypes.get(inputNames[i]) : undefined),
      attr: (name) => attrs.get(name),
      emit: (op, ins, a = {}) => makeNode(op, ins, a, meta),
      constNode: (t) => constNode(t, meta),
      strings: (dims, strings) => internStrings(interner, '', dims, strings),
      unsupported: (why) => {
        throw new UnsupportedError(`${label}: ${why}`);
      },
      outer: (name) => (values.has(name) ? nodeOf(name, label) : undefined),
      // A body's own initializers stay constants: its weights come from this graph as invariants.
      importBody: (graph, inputShapes, name) => importModel({ opsetImport: model.opsetImport, graph } as ModelProto, { inputShapes, name }),
    };
    // Checked before the op is mapped: on ids, an op that is not about equality would compute nonsense.
    const given = inputNames.flatMap((name, i) => (name ? [i] : []));
    const stringInputs = given.filter((i) => stringValues.has(inputNames[i]));
    const outputsAreStrings = stringInputs.length > 0 && stringOutputs(opType, label, stringInputs, given);
    let result: ReturnType<typeof impl>;
    try {
      result = impl(ctx);
    } catch (e) {
      if (e instanceof KilnError && !e.message.includes(label)) {
        const Ctor = e instanceof UnsupportedError ? UnsupportedError : KilnError;
        throw new Ctor(`${label}: ${e.message}`);
      }
      throw e;
    }
    const outs = Array.isArray(result) ? result : [result];
    (n.output ?? []).forEach((name, k) => {
      if (!name) return;
      if (outputsAreStrings || (k < outs.length && 'dims' in outs[k] && outs[k].onnxType === STRING)) stringValues.add(name);
      if (k < outs.length) {
        const o = outs[k];
        // A node computed from constants only is folded, so later ops can read its values.
        const known = 'dims' in o ? o : outputsAreStrings ? undefined : foldConstant(o);
        if (known) {
          values.set(name, { tensor: known });
          elemTypes.set(name, known.onnxType);
          metaOf.set(name, meta);
        } else values.set(name, { node: o as Node });
      } else values.set(name, { missing: `output ${k} of ${label} is not supported` });
    });
  });

  const outputs: GraphOutput[] = (g.output ?? []).map((o) => ({ name: o.name ?? '', node: nodeOf(o.name ?? '', `graph output '${o.name}'`) }));
  if (outputs.length === 0) throw new OnnxFormatError(`ONNX model: the graph has no outputs`);
  const repeated = outputs.find((o, i) => outputs.findIndex((p) => p.name === o.name) !== i);
  if (repeated) throw new OnnxFormatError(`ONNX model: two graph outputs are named ${JSON.stringify(repeated.name)}`);
  const graph: Graph = { name: options.name ?? (g.name || 'onnx_model'), inputs, outputs };
  return withStringBoundary(graph, {
    inputs: inputs.map((n) => String(n.attrs.name)).filter((name) => stringValues.has(name)),
    outputs: outputs.map((o) => o.name).filter((name) => stringValues.has(name)),
    table: [...interner.table],
  });
}
