// A stable, versioned JSON form of a Graph: written with dense ids, read back with every type re-inferred.
import { isDType, type DType } from './dtype.ts';
import { makeNode } from './build.ts';
import { KilnError } from './errors.ts';
import { graphNodes, type Graph, type GraphOutput } from './graph.ts';
import type { Node, NodeMeta, SourceLoc } from './node.ts';
import { isOpName } from './ops/index.ts';
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
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A deep copy of a JSON-representable value with object keys sorted and undefined members dropped.
 * Throws a KilnError (naming `where`) for what JSON cannot hold: non-finite numbers, functions, typed arrays.
 */
function toSortedJson(value: unknown, where: string): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new KilnError(`${where}: ${value} cannot be written as JSON`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => toSortedJson(v, `${where}[${i}]`));
  if (isPlainObject(value)) {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort()) {
      if (value[key] !== undefined) out[key] = toSortedJson(value[key], `${where}.${key}`);
    }
    return out;
  }
  throw new KilnError(`${where}: a ${describe(value)} cannot be written as JSON`);
}

/** JSON text with object keys sorted and no whitespace: equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(toSortedJson(value, 'value'));
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
  };
}

function nodeToJson(n: Node, idOf: (n: Node) => number): NodeJson {
  const id = idOf(n);
  const out: NodeJson = {
    id,
    op: n.op,
    inputs: n.inputs.map(idOf),
    attrs: toSortedJson(n.attrs, `node ${id} (${n.op}) attrs`) as Record<string, unknown>,
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
  const allIds = new Set(rawNodes.map((raw) => (isPlainObject(raw) ? raw.id : undefined)));
  const byId = new Map<number, Node>();
  rawNodes.forEach((raw, index) => {
    const id = asId(asObject(raw, `nodes[${index}]`).id, `nodes[${index}] field "id"`);
    if (byId.has(id)) throw new KilnError(`two nodes have id ${id}`);
    byId.set(id, readNode(raw as Record<string, unknown>, id, byId, allIds));
  });
  const lookup = (id: unknown, what: string): Node => {
    const node = byId.get(asId(id, what));
    if (!node) throw new KilnError(`${what} refers to node ${show(id)}, which does not exist`);
    return node;
  };
  const inputs = asArray(doc.inputs, 'graph field "inputs"').map((id, i) => lookup(id, `graph input ${i}`));
  const outputs = asArray(doc.outputs, 'graph field "outputs"').map((raw, i) => readOutput(raw, i, lookup));
  const names = outputs.map((o) => o.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) throw new KilnError(`graph output name '${repeated}' is used twice`);
  return { name, inputs, outputs };
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
  const attrs = toSortedJson(asObject(raw.attrs, `${where} field "attrs"`), `${where} attrs`) as Record<string, unknown>;
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

/** A short rendering of a bad value for an error message. */
function show(v: unknown): string {
  if (v === undefined) return 'missing';
  const text = typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v));
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function missingOr(v: unknown, expected: string, what: string): KilnError {
  return v === undefined ? new KilnError(`${what} is missing`) : new KilnError(`${what} must be ${expected}, got ${describe(v)} ${show(v)}`);
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (isPlainObject(v)) return v;
  throw missingOr(v, 'an object', what);
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
