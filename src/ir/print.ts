// The readable text form of a graph, in the style of a jaxpr: one line per node, dense %ids, layer comments.
import type { DType } from './dtype.ts';
import { graphNodes, type Graph } from './graph.ts';
import type { Node, TensorType } from './node.ts';

const DTYPE_ABBREV: Record<DType, string> = { float32: 'f32', float64: 'f64', int32: 'i32' };

/** Numeric arrays longer than this print as `<n values>`. */
const MAX_ARRAY = 16;
/** Layer comments line up at the longest node line, but never further right than this. */
const MAX_COMMENT_COLUMN = 72;

/** Attributes that repeat a source node's type, which the line already shows. */
const SOURCE_OPS = new Set(['input', 'param', 'const']);
const TYPE_ATTRS = new Set(['dtype', 'shape']);

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Makes a model-provided string safe to print on one line: control characters and line
 * separators become escapes, and `*\/` is broken up so the text can sit inside a block comment.
 */
export function sanitizeLine(text: string): string {
  return text
    .replace(CONTROL, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\*\//g, '*\\/');
}

/** A string bare when it is a plain name, else quoted (and sanitised). */
function formatString(s: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(s) ? s : sanitizeLine(JSON.stringify(s));
}

/** A tensor type as `f32[N,28,28,1]`. */
export function formatType(t: TensorType): string {
  return `${DTYPE_ABBREV[t.dtype] ?? sanitizeLine(String(t.dtype))}[${t.shape.join(',')}]`;
}

/** Integers as written; other numbers to 6 significant digits. */
function formatNumber(v: number): string {
  return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/** Attribute values nested deeper than this print as `…` (a file may nest arrays without end). */
const MAX_NESTING = 8;

/** One attribute value, with no spaces: `[0,3,1,2]`, `<784 values>`, `glorotUniform(fanIn=9,fanOut=288)`. */
export function formatAttrValue(v: unknown, depth = 0): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return formatString(v);
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && depth >= MAX_NESTING) return '…';
  if (Array.isArray(v)) {
    if (v.length > MAX_ARRAY && v.every((x) => typeof x === 'number')) return `<${v.length} values>`;
    return `[${v.map((x) => formatAttrValue(x, depth + 1)).join(',')}]`;
  }
  if (typeof v === 'object') {
    const { kind, ...rest } = v as Record<string, unknown>;
    const fields = Object.entries(typeof kind === 'string' ? rest : (v as Record<string, unknown>))
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${formatString(k)}=${formatAttrValue(x, depth + 1)}`)
      .join(',');
    return typeof kind === 'string' ? `${formatString(kind)}(${fields})` : `{${fields}}`;
  }
  return sanitizeLine(String(v));
}

/** The attributes worth showing: not ones that repeat a leaf's type, not `trainable=true`, not a scan's body (printed below its line). */
function shownAttrs(node: Node): [string, unknown][] {
  return Object.entries(node.attrs).filter(([k, v]) => {
    if (v === undefined || (node.op === 'scan' && k === 'body')) return false;
    if (SOURCE_OPS.has(node.op) && TYPE_ATTRS.has(k)) return false;
    return !(node.op === 'param' && k === 'trainable' && v === true);
  });
}

/** A node's attributes as `[k=v k=v]`, or '' when it has none worth showing. */
export function formatAttrs(node: Node): string {
  const attrs = shownAttrs(node);
  return attrs.length ? `[${attrs.map(([k, v]) => `${formatString(k)}=${formatAttrValue(v)}`).join(' ')}]` : '';
}

/** The name a node prints under: its dense index when `ids` knows it, else its own id. */
type Namer = (n: Node) => string;

const namer = (ids?: ReadonlyMap<Node, number>): Namer => (n) => `%${ids?.get(n) ?? n.id}`;

/** A node's line without its comment: `%3: f32[N,32,26,26] = conv2d[...](%1, %2)`. */
function nodeCode(node: Node, name: Namer): string {
  const args = node.inputs.length ? `(${node.inputs.map(name).join(', ')})` : '';
  return `${name(node)}: ${formatType(node.type)} = ${formatString(node.op)}${formatAttrs(node)}${args}`;
}

/** The layer a node belongs to, sanitised, or '' for none. */
function layerComment(node: Node): string {
  return node.meta.layer !== undefined ? sanitizeLine(node.meta.layer) : '';
}

/**
 * One node as a line: `%3: f32[N,32,26,26] = conv2d[strides=[1,1] ...](%1, %2)   # conv2d_1`.
 * Nodes are named by `ids` where given (printGraph's dense numbering), else by their own ids.
 */
export function printNode(node: Node, ids?: ReadonlyMap<Node, number>): string {
  const code = nodeCode(node, namer(ids));
  const comment = layerComment(node);
  return comment ? `${code}   # ${comment}` : code;
}

/** A graph input in the header: `%0: f32[N,28,28,1] image`. */
function headerInput(node: Node, name: Namer): string {
  const label = typeof node.attrs.name === 'string' ? ` ${formatString(node.attrs.name)}` : '';
  return `${name(node)}: ${formatType(node.type)}${label}`;
}

/**
 * A scan's body under its line, as a jaxpr prints a loop's: `{ lambda %0: f32[N,8] h, … .` then
 * the body's own lines (numbered from 0 within the body) and `return %k }`, indented. Loops nest
 * only as deep as a user wrote them, so this recursion is bounded by that, not by a graph's size.
 */
function bodyLines(node: Node): string[] {
  if (node.op !== 'scan') return [];
  const inner = printGraph(node.attrs.body as Graph).split('\n');
  const head = inner[0].replace(/^graph \S+\((.*)\) \{$/, '{ lambda $1 .');
  const ret = inner[inner.length - 2].replace(/^ {2}return \{ \S+: (%\d+) \}$/, '  return $1 }');
  return [head, ...inner.slice(1, -2), ret].map((l) => `    ${l}`);
}

/**
 * The whole graph as text: a header declaring its inputs, one line per other node in
 * topological order (numbered densely from 0, as in its JSON form), and a return line.
 */
export function printGraph(g: Graph): string {
  const nodes = graphNodes(g);
  const ids = new Map<Node, number>(nodes.map((n, i) => [n, i]));
  const name = namer(ids);
  const declared = new Set(g.inputs);
  const body = nodes.filter((n) => !declared.has(n)).map((n) => ({ code: nodeCode(n, name), comment: layerComment(n), nested: bodyLines(n) }));
  const width = Math.min(MAX_COMMENT_COLUMN, Math.max(0, ...body.map((l) => l.code.length)));
  const lines = body.flatMap((l) => [l.comment ? `  ${l.code.padEnd(width)}   # ${l.comment}` : `  ${l.code}`, ...l.nested]);
  const outputs = g.outputs.map((o) => `${formatString(o.name)}: ${name(o.node)}`).join(', ');
  return [
    `graph ${formatString(g.name)}(${g.inputs.map((n) => headerInput(n, name)).join(', ')}) {`,
    ...lines,
    `  return ${outputs ? `{ ${outputs} }` : '{}'}`,
    '}',
  ].join('\n');
}

/**
 * One line for summaries and checks of a per-sample graph, e.g. `batch on axis 1 (x, y, h), on
 * axis 0 (out); compiled per sample: predict and run loop over the batch`; undefined for any other graph.
 */
export function describeBatchAxes(g: Graph): string | undefined {
  const axes = g.batchAxes;
  if (!axes) return undefined;
  const byAxis = new Map<number, string[]>();
  const add = (axis: number | null, name: string) => {
    if (axis !== null) byAxis.set(axis, [...(byAxis.get(axis) ?? []), name]);
  };
  g.inputs.forEach((n, i) => add(axes.inputs[i], String(n.attrs.name)));
  g.outputs.forEach((o, k) => add(axes.outputs[k], o.name));
  // Names come from the file: one line each, whatever they hold.
  const parts = [...byAxis].map(([axis, names]) => `on axis ${axis} (${names.map((n) => sanitizeLine(n)).join(', ')})`);
  return `batch ${parts.join(', ')}; compiled per sample: predict and run loop over the batch`;
}
