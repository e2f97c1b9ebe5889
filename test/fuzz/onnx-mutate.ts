// ONNX mutants: structured edits of the decoded ModelProto (dims, attributes, names, nodes, opset) and raw byte edits.
import fc from 'fast-check';
import { onnx, type AttributeProto, type DimensionProto, type ModelProto } from '../../src/onnx/proto.ts';
import { HOSTILE_FLOATS, HOSTILE_INTS, HOSTILE_NAMES, PAYLOADS, pick } from './hostile.ts';

const A = onnx.AttributeProto.AttributeType;

export const STRUCTURED_KINDS = ['dim', 'attr', 'name', 'node', 'rewire', 'opset', 'init', 'io', 'chain'] as const;
export const BYTE_KINDS = ['flip', 'set', 'truncate', 'insert', 'delete'] as const;

/** One edit; a, b, c choose targets and values (modulo what exists), so shrinking heads for the first of each. */
export interface Mutation {
  kind: (typeof STRUCTURED_KINDS)[number] | (typeof BYTE_KINDS)[number];
  a: number;
  b: number;
  c: number;
}

export interface OnnxMutant {
  seed: number;
  structured: Mutation[];
  bytes: Mutation[];
}

/** Kinds are drawn evenly, except that deep chains (slow to build, import and compile) come a quarter as often. */
const kindOf = (kinds: readonly Mutation['kind'][]): fc.Arbitrary<Mutation['kind']> =>
  fc.oneof(...kinds.map((k) => ({ weight: k === 'chain' ? 1 : 4, arbitrary: fc.constant(k) })));

const mutation = (kinds: readonly Mutation['kind'][]) => fc.record({ kind: kindOf(kinds), a: fc.nat(1 << 20), b: fc.nat(1 << 20), c: fc.nat(1 << 20) });

/** A seed index and one to four edits, structured ones more often than byte ones. */
export function onnxMutant(seeds: number): fc.Arbitrary<OnnxMutant> {
  const none: fc.Arbitrary<Mutation[]> = fc.constant([]);
  const some: fc.Arbitrary<Mutation[]> = fc.array(mutation(BYTE_KINDS), { minLength: 1, maxLength: 2 });
  return fc
    .record({
      seed: fc.nat(seeds - 1),
      structured: fc.array(mutation(STRUCTURED_KINDS), { minLength: 0, maxLength: 3 }) as fc.Arbitrary<Mutation[]>,
      bytes: fc.oneof({ weight: 3, arbitrary: none }, { weight: 1, arbitrary: some }),
    })
    .filter((m) => m.structured.length + m.bytes.length > 0);
}

type Dim = DimensionProto;
/** Edits of dimension i: hostile sizes, symbolic names, a missing value, one dim fewer or more. */
const DIM_EDITS: ((dims: Dim[], i: number) => void)[] = [
  ...HOSTILE_INTS.map((v) => (dims: Dim[], i: number) => void (dims[i] = { dimValue: v })),
  (dims, i) => void (dims[i] = { dimParam: 'N' }),
  (dims, i) => void (dims[i] = { dimParam: '__proto__' }),
  (dims, i) => void (dims[i] = {}),
  (dims) => void dims.pop(),
  (dims) => void dims.push({ dimValue: 1 }),
];

/** Every dims list of the graph's value infos. */
function dimLists(m: ModelProto): Dim[][] {
  const g = m.graph!;
  const infos = [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])];
  return infos.flatMap((v) => (v.type?.tensorType ? [((v.type.tensorType.shape ??= { dim: [] }).dim ??= [])] : []));
}

function editDim(m: ModelProto, { a, b, c }: Mutation): void {
  const inits = m.graph!.initializer ?? [];
  const lists = dimLists(m);
  if ((c % 3 === 0 && inits.length) || !lists.length) {
    if (!inits.length) return;
    const t = pick(inits, a);
    const dims = [...(t.dims ?? [])] as number[];
    if (dims.length) dims[b % dims.length] = pick(HOSTILE_INTS, c >> 2);
    else dims.push(pick(HOSTILE_INTS, c >> 2));
    t.dims = dims;
    return;
  }
  const dims = pick(lists, a);
  if (!dims.length) dims.push({ dimValue: 1 });
  pick(DIM_EDITS, b)(dims, c % dims.length);
}

const COMMON_ATTRS = ['axis', 'axes', 'perm', 'kernel_shape', 'strides', 'pads', 'dilations', 'group', 'alpha', 'beta', 'epsilon', 'hidden_size', 'transA', 'transB', 'keepdims', 'auto_pad', 'ceil_mode', 'count_include_pad', 'direction', 'to', 'value', 'layout', '__proto__', 'constructor'];

/** Replacement attribute bodies: wrong types, non-finite and huge numbers, payload strings, empty and odd lists. */
const ATTR_VALUES: AttributeProto[] = [
  ...HOSTILE_INTS.map((i) => ({ type: A.INT, i })),
  ...HOSTILE_FLOATS.map((f) => ({ type: A.FLOAT, f })),
  ...[...PAYLOADS, '', 'SAME_UPPER', 'NOTSET', 'bidirectional', '__proto__'].map((s) => ({ type: A.STRING, s: new TextEncoder().encode(s) })),
  { type: A.INTS, ints: [] },
  { type: A.INTS, ints: [0] },
  { type: A.INTS, ints: [-1, -1] },
  { type: A.INTS, ints: [2 ** 31, 2 ** 31] },
  { type: A.INTS, ints: [1, 1, 1, 1, 1, 1, 1, 1, 1] },
  { type: A.INTS, ints: [0, 0, 0, 0] },
  { type: A.FLOATS, floats: [] },
  { type: A.FLOATS, floats: [NaN, Infinity] },
  { type: A.STRINGS, strings: PAYLOADS.slice(0, 2).map((s) => new TextEncoder().encode(s)) },
  { type: A.TENSOR, t: { dataType: 1, dims: [0] } },
  { type: A.TENSOR, t: { dataType: 1, dims: [2 ** 31], floatData: [1] } },
  { type: A.TENSOR, t: { dataType: 7, dims: [2], int64Data: [2 ** 40, -1] } },
  { type: A.GRAPH, g: {} },
  { type: A.UNDEFINED },
  { type: 99, i: 1 },
];

function editAttr(m: ModelProto, { a, b, c }: Mutation): void {
  const nodes = m.graph!.node ?? [];
  if (!nodes.length) return;
  const node = pick(nodes, a);
  const attrs = (node.attribute ??= []);
  const value = pick(ATTR_VALUES, c);
  if (attrs.length && b % 4 !== 0) {
    const old = pick(attrs, b >> 2);
    attrs[attrs.indexOf(old)] = onnx.AttributeProto.create({ ...value, name: old.name });
  } else if (attrs.length && b % 8 === 4) attrs.splice((b >> 3) % attrs.length, 1);
  else attrs.push(onnx.AttributeProto.create({ ...value, name: pick(COMMON_ATTRS, b >> 3) }));
}

/** Every value name: inputs, outputs, initializers, node inputs and outputs. */
function valueNames(m: ModelProto): string[] {
  const g = m.graph!;
  const names = new Set<string>();
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.initializer ?? [])]) names.add(v.name ?? '');
  for (const n of g.node ?? []) for (const x of [...(n.input ?? []), ...(n.output ?? [])]) names.add(x);
  names.delete('');
  return [...names];
}

function renameAll(m: ModelProto, from: string, to: string, only?: number): void {
  const g = m.graph!;
  let seen = 0;
  const swap = (x: string) => (x === from && (only === undefined || seen++ === only) ? to : x);
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.initializer ?? []), ...(g.valueInfo ?? [])]) v.name = swap(v.name ?? '');
  for (const n of g.node ?? []) {
    n.input = (n.input ?? []).map(swap);
    n.output = (n.output ?? []).map(swap);
  }
}

function editName(m: ModelProto, { a, b, c }: Mutation): void {
  const names = valueNames(m);
  const g = m.graph!;
  const hostile = c % 7 === 6 && names.length > 1 ? pick(names, c >> 3) : pick(HOSTILE_NAMES, b); // or a duplicate of another name
  switch (c % 3) {
    case 0:
      if (names.length) renameAll(m, pick(names, a), hostile);
      return;
    case 1:
      if (names.length) renameAll(m, pick(names, a), hostile, b % 3);
      return;
    default:
      if (a % 2 === 0) g.name = hostile;
      else if ((g.node ?? []).length) pick(g.node!, a >> 1).name = hostile;
  }
}

const OP_TYPES = ['Relu', 'Add', 'MatMul', 'Gemm', 'Conv', 'MaxPool', 'Reshape', 'Transpose', 'Softmax', 'Gather', 'Concat', 'Slice', 'ReduceSum', 'LSTM', 'Identity', 'Constant', 'Frobnicate', '__proto__', 'constructor', 'toString'];

function editNode(m: ModelProto, { a, b, c }: Mutation): void {
  const nodes = (m.graph!.node ??= []);
  if (!nodes.length) return;
  const i = a % nodes.length;
  switch (b % 4) {
    case 0:
      nodes.splice(i, 1);
      return;
    case 1:
      nodes.splice(i + 1, 0, onnx.NodeProto.decode(onnx.NodeProto.encode(nodes[i]).finish()));
      return;
    case 2: {
      const [n] = nodes.splice(i, 1);
      nodes.splice(c % (nodes.length + 1), 0, n);
      return;
    }
    default:
      nodes[i].opType = pick(OP_TYPES, c);
  }
}

function rewire(m: ModelProto, { a, b, c }: Mutation): void {
  const nodes = m.graph!.node ?? [];
  if (!nodes.length) return;
  const n = pick(nodes, a);
  const ins = (n.input ??= []);
  const names = valueNames(m);
  const to = c % 5 === 0 ? '' : c % 5 === 1 ? 'no_such_value' : pick(names, c);
  if (ins.length && b % 3 !== 0) ins[b % ins.length] = to;
  else if (b % 2 === 0) ins.push(to);
  else ins.pop();
}

const OPSETS = [0, 1, 6, 7, 9, 11, 12, 13, 17, 22, 23, 99, -1, 2 ** 40];
function editOpset(m: ModelProto, { a, b }: Mutation): void {
  const imports = (m.opsetImport ??= []);
  switch (b % 4) {
    case 0:
      if (imports.length) imports[0].version = pick(OPSETS, a);
      return;
    case 1:
      imports.push({ domain: '', version: pick(OPSETS, a) });
      return;
    case 2:
      imports.splice(0, imports.length);
      return;
    default:
      if ((m.graph!.node ?? []).length) pick(m.graph!.node!, a).domain = pick(['com.microsoft', 'ai.onnx.ml', '__proto__', 'ai.onnx'], a >> 2);
  }
}

const DATA_TYPES = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 16, 17, 99];
function editInitializer(m: ModelProto, { a, b, c }: Mutation): void {
  const inits = m.graph!.initializer ?? [];
  if (!inits.length) return;
  const t = pick(inits, a);
  switch (b % 4) {
    case 0:
      t.dataType = pick(DATA_TYPES, c);
      return;
    case 1:
      if (t.rawData?.length) t.rawData = t.rawData.subarray(0, c % t.rawData.length);
      else t.floatData = (t.floatData ?? []).slice(0, -1);
      return;
    case 2: {
      t.rawData = new Uint8Array();
      t.dataType = 1;
      t.floatData = Array.from({ length: (t.dims ?? []).reduce<number>((p, d) => p * Number(d), 1) }, (_, i) => pick(HOSTILE_FLOATS, c + i));
      return;
    }
    default:
      t.dims = [...(t.dims ?? []), pick([0, 2, 3], c)] as number[];
  }
}

function editIo(m: ModelProto, { a, b, c }: Mutation): void {
  const g = m.graph!;
  const list = b % 2 === 0 ? (g.input ??= []) : (g.output ??= []);
  switch ((b >> 1) % 4) {
    case 0:
      if (list.length) list.splice(a % list.length, 1);
      return;
    case 1:
      if (list.length) list.push(onnx.ValueInfoProto.decode(onnx.ValueInfoProto.encode(pick(list, a)).finish()));
      return;
    case 2: {
      const names = valueNames(m);
      if (names.length && list.length) list.push({ ...onnx.ValueInfoProto.decode(onnx.ValueInfoProto.encode(pick(list, a)).finish()), name: pick(names, c) });
      return;
    }
    default:
      if (list.length && pick(list, a).type?.tensorType) pick(list, a).type!.tensorType!.elemType = pick(DATA_TYPES, c);
  }
}

/** Lengths of inserted chains: short, past where recursive walks used to overflow, and long. */
const CHAIN_LENGTHS = [2, 3000, 12_000];

/** Puts a chain of unary nodes (Relu, Identity, Neg, Abs) in front of one input of a node: deep graphs from a small file. */
function chain(m: ModelProto, { a, b, c }: Mutation): void {
  const nodes = (m.graph!.node ??= []);
  const users = nodes.filter((n) => (n.input ?? []).some((x) => x !== ''));
  if (!users.length) return;
  const user = pick(users, a);
  const k = (user.input ?? []).findIndex((x) => x !== '');
  const from = user.input![k];
  const length = pick(CHAIN_LENGTHS, b);
  const op = pick(['Relu', 'Identity', 'Neg', 'Abs'], c);
  const added = Array.from({ length }, (_, i) => onnx.NodeProto.create({ opType: op, input: [i === 0 ? from : `chain_${i - 1}`], output: [`chain_${i}`] }));
  user.input![k] = `chain_${length - 1}`;
  nodes.splice(nodes.indexOf(user), 0, ...added);
}

const STRUCTURED: Record<(typeof STRUCTURED_KINDS)[number], (m: ModelProto, e: Mutation) => void> = {
  dim: editDim,
  attr: editAttr,
  name: editName,
  node: editNode,
  rewire,
  opset: editOpset,
  init: editInitializer,
  io: editIo,
  chain,
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function editBytes(bytes: Uint8Array, { kind, a, b, c }: Mutation): Uint8Array {
  if (bytes.length === 0) return bytes;
  // Half the edits land in the first 4 KiB, where the nodes are (initializer data follows them).
  const at = c % 2 === 0 ? a % Math.min(bytes.length, 4096) : a % bytes.length;
  const copy = bytes.slice();
  switch (kind) {
    case 'flip':
      copy[at] ^= 1 << (b % 8);
      return copy;
    case 'set':
      copy[at] = pick([0, 0xff, 0x7f, 0x80, b & 0xff], c);
      return copy;
    case 'truncate':
      return bytes.slice(0, at);
    case 'insert':
      return concat(bytes.subarray(0, at), Uint8Array.from({ length: 1 + (b % 8) }, (_, i) => (c >> i) & 0xff), bytes.subarray(at));
    default:
      return concat(bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + (b % 16))));
  }
}

/** The mutant's bytes: structured edits on a fresh decode of the seed, re-encoded, then byte edits. */
export function applyOnnxMutant(seedBytes: Uint8Array, m: OnnxMutant): Uint8Array {
  let bytes = seedBytes;
  if (m.structured.length) {
    const model = onnx.ModelProto.decode(seedBytes);
    for (const e of m.structured) STRUCTURED[e.kind as (typeof STRUCTURED_KINDS)[number]](model, e);
    bytes = onnx.ModelProto.encode(model).finish();
  }
  for (const e of m.bytes) bytes = editBytes(bytes, e);
  return bytes;
}
