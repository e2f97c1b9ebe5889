// A stable, versioned JSON form of a Graph: written with dense ids, read back with every type re-inferred.
import { isDType, type DType } from './dtype.ts';
import { makeNode } from './build.ts';
import { KilnError } from './errors.ts';
import { graphNodes, type Graph, type GraphOutput, type StringBoundary, type BatchAxes } from './graph.ts';
import type { Node, NodeMeta, SourceLoc } from './node.ts';
import { showValue } from './ops/attr-schema.ts';
import { isOpName } from './ops/index.ts';
import { own } from './own.ts';
import { BATCH, formatShape, sameShape, type Dim } from './shape.ts';

/** The `format` field of every serialised graph. */
export const GRAPH_FORMAT = 'kiln.graph';
/** The version of the JSON form this code writes and reads. */
export const GRAPH_VERSION = 1;

/** One node: its op, inputs by id (always earlier nodes), attributes with sorted keys, its type. */
export interface NodeJson {
  id: number;
  op: string;
  inputs: number[];
  attrs: Record<string, unknown>;
  dtype: DType;
  shape: Dim[];
  layer?: string;
  layerKind?: string;
  source?: SourceLoc;
}

/** A whole graph; nodes are listed in topological order with ids 0..n-1. */
export interface GraphJson {
  format: typeof GRAPH_FORMAT;
  version: typeof GRAPH_VERSION;
  name: string;
  nodes: NodeJson[];
  inputs: number[];
  outputs: { name: string; node: number }[];
  /** The graph's string boundary (ONNX import), when it has one. */
  strings?: { inputs: string[]; outputs: string[]; table: string[] };
  /** A per-sample graph's batch axes (ONNX import of a batch that is not first), when it has them. */
  batchAxes?: { inputs: (number | null)[]; outputs: number[] };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * How a number JSON cannot hold is written: `{"$number": "Infinity"}` (or "-Infinity", "NaN").
 * Tagged, so it never collides with a string attribute (an input may be named "NaN"); no op's
 * attribute schema has a `$number` key, so a record of that one key is never anything else.
 */
export const NON_FINITE_TAG = '$number';
const NON_FINITE: ReadonlyMap<string, number> = new Map([
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['NaN', NaN],
]);

function encodeNumber(v: number): Json {
  if (Number.isFinite(v)) return v;
  const tagged: { [key: string]: Json } = Object.create(null);
  tagged[NON_FINITE_TAG] = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return tagged;
}

/** The number a `{"$number": ...}` record stands for, or undefined when `v` is not one. */
function decodeNumber(v: Record<string, unknown>): number | undefined {
  const keys = Object.keys(v);
  if (keys.length !== 1 || keys[0] !== NON_FINITE_TAG) return undefined;
  const text = v[NON_FINITE_TAG];
  return typeof text === 'string' ? NON_FINITE.get(text) : undefined;
}

/** A value still to copy, with the place its copy goes and its path (for errors). */
interface Task {
  readonly value: unknown;
  readonly where: string;
  readonly put: (j: Json) => void;
}

/**
 * A deep copy of a JSON-like value, by an explicit stack (a file may nest arbitrarily deep).
 * `encode` writes (sorted keys, undefined members dropped, non-finite numbers tagged);
 * `decode` reads (tagged numbers restored). Objects become null-prototype objects, so no key
 * from a file (`__proto__`, `constructor`) means anything but itself. Throws a KilnError naming
 * `where` for what JSON cannot hold: functions, typed arrays, undefined in a list.
 */
function copyJson(value: unknown, where: string, mode: 'encode' | 'decode'): Json {
  let result: Json = null;
  const stack: Task[] = [{ value, where, put: (j) => (result = j) }];
  while (stack.length) {
    const { value: v, where: at, put } = stack.pop()!;
    const leaf = copyLeaf(v, at, mode);
    if (leaf !== NOT_LEAF) {
      put(leaf);
    } else if (Array.isArray(v)) {
      const out = new Array<Json>(v.length);
      put(out);
      for (let i = 0; i < v.length; i++) {
        const item = copyLeaf(v[i], at, mode, i);
        if (item !== NOT_LEAF) out[i] = item;
        else stack.push({ value: v[i], where: `${at}[${i}]`, put: (j) => (out[i] = j) });
      }
    } else if (isPlainObject(v)) {
      // Decoding restores the number; encoding keeps an already encoded one (canonicalJson of
      // graphToJson's output, as the graph hash does). No attribute schema has a '$number' key.
      const decoded = decodeNumber(v);
      if (decoded !== undefined) {
        put(mode === 'decode' ? decoded : encodeNumber(decoded));
        continue;
      }
      if (mode === 'encode' && Object.prototype.hasOwnProperty.call(v, NON_FINITE_TAG)) {
        throw new KilnError(`${at}: a key '${NON_FINITE_TAG}' cannot be written (it marks non-finite numbers)`);
      }
      const out: { [key: string]: Json } = Object.create(null);
      put(out);
      const keys = Object.keys(v);
      if (mode === 'encode') keys.sort();
      for (const key of keys) {
        if (v[key] === undefined) continue;
        // Placed now, filled when its task runs: keys keep their (sorted) order.
        out[key] = null;
        stack.push({ value: v[key], where: `${at}.${key}`, put: (j) => (out[key] = j) });
      }
    } else {
      throw new KilnError(`${at}: a ${describe(v)} cannot be written as JSON`);
    }
  }
  return result;
}

const NOT_LEAF = Symbol('not a leaf');

/** A primitive's copy, or NOT_LEAF for arrays and objects (`index`: its place in a list, for errors). */
function copyLeaf(v: unknown, at: string, mode: 'encode' | 'decode', index?: number): Json | typeof NOT_LEAF {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (mode === 'encode') return encodeNumber(v);
    if (Number.isFinite(v)) return v;
  }
  if (typeof v === 'object' && (Array.isArray(v) || isPlainObject(v))) return NOT_LEAF;
  throw new KilnError(`${index === undefined ? at : `${at}[${index}]`}: a ${describe(v)} cannot be written as JSON`);
}

/** JSON text with object keys sorted and no whitespace: equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(copyJson(value, 'value', 'encode'));
}

/** The JSON form of a graph, nodes renumbered densely in topological order. */
export function graphToJson(g: Graph): GraphJson {
  const nodes = graphNodes(g);
  const ids = new Map<Node, number>(nodes.map((n, i) => [n, i]));
  const idOf = (n: Node) => ids.get(n)!;
  return {
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    name: g.name,
    nodes: nodes.map((n) => nodeToJson(n, idOf)),
    inputs: g.inputs.map(idOf),
    outputs: g.outputs.map((o) => ({ name: o.name, node: idOf(o.node) })),
    ...(g.strings ? { strings: { inputs: [...g.strings.inputs], outputs: [...g.strings.outputs], table: [...g.strings.table] } } : {}),
    ...(g.batchAxes ? { batchAxes: { inputs: [...g.batchAxes.inputs], outputs: [...g.batchAxes.outputs] } } : {}),
  };
}

/** A scan's body is a graph: written as a nested graph document (bodies nest only as deep as loops do). */
function attrsToJson(n: Node): Readonly<Record<string, unknown>> {
  return n.op === 'scan' ? { ...n.attrs, body: graphToJson(n.attrs.body as Graph) } : n.attrs;
}

function nodeToJson(n: Node, idOf: (n: Node) => number): NodeJson {
  const id = idOf(n);
  const out: NodeJson = {
    id,
    op: n.op,
    inputs: n.inputs.map(idOf),
    attrs: copyJson(attrsToJson(n), `node ${id} (${n.op}) attrs`, 'encode') as Record<string, unknown>,
    dtype: n.type.dtype,
    shape: [...n.type.shape],
  };
  if (n.meta.layer !== undefined) out.layer = n.meta.layer;
  if (n.meta.layerKind !== undefined) out.layerKind = n.meta.layerKind;
  if (n.meta.source) out.source = { file: n.meta.source.file, line: n.meta.source.line, column: n.meta.source.column };
  return out;
}

/**
 * Rebuilds a graph from its JSON form, checking everything: format and version, every field's
 * type, known ops, inputs that refer only to earlier nodes (so no cycles), and that each recorded
 * type is what the op's rule infers. Throws KilnError (ShapeError when a rule rejects its inputs).
 */
export function graphFromJson(json: unknown): Graph {
  const doc = asObject(json, 'a serialised graph');
  if (doc.format !== GRAPH_FORMAT) {
    throw new KilnError(`not a Kiln graph: format is ${show(doc.format)}, expected '${GRAPH_FORMAT}'`);
  }
  if (doc.version !== GRAPH_VERSION) {
    throw new KilnError(`unsupported ${GRAPH_FORMAT} version ${show(doc.version)}: this Kiln reads version ${GRAPH_VERSION}`);
  }
  const name = asString(doc.name, 'graph field "name"');
  const rawNodes = asArray(doc.nodes, 'graph field "nodes"');
  const allIds = new Set(rawNodes.map((raw) => (isPlainObject(raw) ? own(raw, 'id') : undefined)));
  const byId = new Map<number, Node>();
  let legacyStrings: unknown;
  rawNodes.forEach((raw, index) => {
    const fields = asObject(raw, `nodes[${index}]`);
    // Files written before `strings` was a graph field kept it on the first input's attributes.
    if (fields.op === 'input' && isPlainObject(fields.attrs) && own(fields.attrs, 'strings') !== undefined) {
      const { strings, ...attrs } = fields.attrs;
      legacyStrings ??= strings;
      fields.attrs = attrs;
    }
    const id = asId(fields.id, `nodes[${index}] field "id"`);
    if (byId.has(id)) throw new KilnError(`two nodes have id ${id}`);
    byId.set(id, readNode(fields, id, byId, allIds));
  });
  const lookup = (id: unknown, what: string): Node => {
    const node = byId.get(asId(id, what));
    if (!node) throw new KilnError(`${what} refers to node ${show(id)}, which does not exist`);
    return node;
  };
  const inputs = asArray(doc.inputs, 'graph field "inputs"').map((id, i) => lookup(id, `graph input ${i}`));
  const outputs = asArray(doc.outputs, 'graph field "outputs"').map((raw, i) => readOutput(raw, i, lookup));
  const seen = new Set<string>();
  const repeated = outputs.find((o) => (seen.has(o.name) ? true : (seen.add(o.name), false)))?.name;
  if (repeated !== undefined) throw new KilnError(`graph output name '${repeated}' is used twice`);
  const rawStrings = own(doc, 'strings') ?? legacyStrings;
  const graph: Graph = { name, inputs, outputs };
  const rawAxes = own(doc, 'batchAxes');
  const withAxes: Graph = rawAxes === undefined ? graph : { ...graph, batchAxes: readBatchAxes(rawAxes, graph) };
  return rawStrings === undefined ? withAxes : { ...withAxes, strings: readStrings(rawStrings, graph) };
}

/** A per-sample graph's batch axes: one per input (null: fed whole) and per output, each a dimension of size 1 there. */
function readBatchAxes(raw: unknown, g: Graph): BatchAxes {
  const fields = asObject(raw, 'graph field "batchAxes"');
  const extra = Object.keys(fields).find((k) => !['inputs', 'outputs'].includes(k));
  if (extra !== undefined) throw new KilnError(`graph field "batchAxes" has unknown field ${show(extra)}`);
  const axes = (key: 'inputs' | 'outputs', shapes: readonly (readonly unknown[])[]) => {
    const list = asArray(fields[key], `graph field "batchAxes.${key}"`);
    if (list.length !== shapes.length) throw new KilnError(`graph field "batchAxes.${key}" has ${list.length} entries, expected ${shapes.length} (one per graph ${key.slice(0, -1)})`);
    return list.map((a, i) => {
      if (a === null && key === 'inputs') return null;
      if (!Number.isInteger(a) || shapes[i][a as number] !== 1) throw new KilnError(`graph field "batchAxes.${key}[${i}]" is ${show(a)}, expected the position of a dimension of size 1${key === 'inputs' ? ' or null' : ''}`);
      return a as number;
    });
  };
  return { inputs: axes('inputs', g.inputs.map((n) => n.type.shape)), outputs: axes('outputs', g.outputs.map((o) => o.node.type.shape)) as number[] };
}

/** The string boundary: three lists of strings, whose inputs and outputs name the graph's own. */
function readStrings(raw: unknown, g: Graph): StringBoundary {
  const fields = asObject(raw, 'graph field "strings"');
  const extra = Object.keys(fields).find((k) => !['inputs', 'outputs', 'table'].includes(k));
  if (extra !== undefined) throw new KilnError(`graph field "strings" has unknown field ${show(extra)}`);
  const list = (key: string) => asArray(fields[key], `graph field "strings.${key}"`).map((v, i) => asString(v, `graph field "strings.${key}[${i}]"`));
  const inputNames = new Set(g.inputs.map((n) => String(n.attrs.name)));
  const outputNames = new Set(g.outputs.map((o) => o.name));
  const inputs = list('inputs');
  const outputs = list('outputs');
  const strayIn = inputs.find((n) => !inputNames.has(n));
  if (strayIn !== undefined) throw new KilnError(`graph field "strings.inputs" names ${show(strayIn)}, which is not a graph input`);
  const strayOut = outputs.find((n) => !outputNames.has(n));
  if (strayOut !== undefined) throw new KilnError(`graph field "strings.outputs" names ${show(strayOut)}, which is not a graph output`);
  return { inputs, outputs, table: list('table') };
}

function readOutput(raw: unknown, i: number, lookup: (id: unknown, what: string) => Node): GraphOutput {
  const o = asObject(raw, `graph output ${i}`);
  const name = asString(o.name, `graph output ${i} field "name"`);
  return { name, node: lookup(o.node, `graph output '${name}'`) };
}

/** Rebuilds one node through makeNode, then checks the recorded type against the inferred one. */
function readNode(raw: Record<string, unknown>, id: number, byId: Map<number, Node>, allIds: Set<unknown>): Node {
  const where = `node ${id}`;
  const op = asString(raw.op, `${where} field "op"`);
  if (!isOpName(op)) throw new KilnError(`${where}: unknown op '${op}'`);
  const inputs = asArray(raw.inputs, `${where} field "inputs"`).map((ref) => {
    const input = byId.get(asId(ref, `${where} input`));
    if (input) return input;
    if (ref === id) throw new KilnError(`${where} (${op}) reads itself: the graph has a cycle`);
    if (allIds.has(ref)) throw new KilnError(`${where} (${op}) reads node ${ref}, which comes later: inputs must refer to earlier nodes (a cycle, or nodes out of order)`);
    throw new KilnError(`${where} (${op}) reads node ${ref}, which does not exist`);
  });
  const attrs = copyJson(asObject(raw.attrs, `${where} field "attrs"`), `${where} attrs`, 'decode') as Record<string, unknown>;
  if (op === 'scan' && isPlainObject(attrs.body)) attrs.body = readBody(attrs.body, where);
  const dtype = asString(raw.dtype, `${where} (${op}) field "dtype"`);
  if (!isDType(dtype)) throw new KilnError(`${where} (${op}): unknown dtype ${show(dtype)}`);
  const shape = asShape(raw.shape, `${where} (${op}) field "shape"`);
  const node = makeNode(op, inputs, attrs, readMeta(raw, where));
  if (node.type.dtype !== dtype || !sameShape(node.type.shape, shape)) {
    const layer = node.meta.layer !== undefined ? ` in layer '${node.meta.layer}'` : '';
    throw new KilnError(
      `${where} (${op}${layer}) records type ${dtype}${formatShape(shape)}, but ${op} infers ${node.type.dtype}${formatShape(node.type.shape)}`,
    );
  }
  return node;
}

/** A scan's nested body graph; its errors name the scan node that holds it. */
function readBody(raw: unknown, where: string): Graph {
  try {
    return graphFromJson(raw);
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    throw new KilnError(`${where} (scan): attribute body: ${e.message}`);
  }
}

function readMeta(raw: Record<string, unknown>, where: string): NodeMeta {
  const meta: { layer?: string; layerKind?: string; source?: SourceLoc } = {};
  if (raw.layer !== undefined) meta.layer = asString(raw.layer, `${where} field "layer"`);
  if (raw.layerKind !== undefined) meta.layerKind = asString(raw.layerKind, `${where} field "layerKind"`);
  if (raw.source !== undefined) {
    const s = asObject(raw.source, `${where} field "source"`);
    meta.source = {
      file: asString(s.file, `${where} source field "file"`),
      line: asId(s.line, `${where} source field "line"`),
      column: asId(s.column, `${where} source field "column"`),
    };
  }
  return meta;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** A short, one-line rendering of a bad value for an error message (never a deep walk). */
function show(v: unknown): string {
  if (v === undefined) return 'missing';
  const text = typeof v === 'string' ? `'${JSON.stringify(v).slice(1, -1)}'` : showValue(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function missingOr(v: unknown, expected: string, what: string): KilnError {
  return v === undefined ? new KilnError(`${what} is missing`) : new KilnError(`${what} must be ${expected}, got ${describe(v)} ${show(v)}`);
}

/** The object's own fields, copied into a null-prototype object (so no inherited name is read). */
function asObject(v: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(v)) throw missingOr(v, 'an object', what);
  const out: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(v)) out[key] = v[key];
  return out;
}

function asArray(v: unknown, what: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw missingOr(v, 'an array', what);
}

function asString(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  throw missingOr(v, 'a string', what);
}

/** A non-negative integer (node ids, source lines and columns). */
function asId(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw missingOr(v, 'a non-negative integer', what);
}

function asShape(v: unknown, what: string): Dim[] {
  const dims = asArray(v, what);
  if (dims.every((d) => d === BATCH || (typeof d === 'number' && Number.isInteger(d) && d >= 0))) return dims as Dim[];
  throw new KilnError(`${what} must list non-negative integers or '${BATCH}', got ${show(v)}`);
}
