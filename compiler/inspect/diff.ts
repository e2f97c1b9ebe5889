// `kiln diff`: what differs between two inspection documents (two models, or one model at two
// stages): nodes added, removed and changed, layers' shapes and parameters, kernels, totals.
import { sanitizeLine } from '../../src/ir/print.ts';
import type { Dim } from '../../src/ir/shape.ts';
import type { DocNode, GraphDoc } from './graph-doc.ts';
import { formatCount } from './table.ts';

/** A node as the diff names it: `layer/op#k` (the k-th node of that op in that layer), stable across models and stages. */
export interface NodeKey {
  readonly key: string;
  readonly op: string;
  readonly layer?: string;
  readonly shape: readonly Dim[];
  readonly dtype: string;
}

export interface NodeChange {
  readonly key: string;
  /** What changed, e.g. `shape [N,64] → [N,32]`. */
  readonly changes: readonly string[];
}

export interface LayerChange {
  readonly name: string;
  readonly changes: readonly string[];
}

export interface GraphDiff {
  readonly a: { readonly model: string; readonly stage: string };
  readonly b: { readonly model: string; readonly stage: string };
  readonly same: boolean;
  readonly nodes: { readonly added: readonly NodeKey[]; readonly removed: readonly NodeKey[]; readonly changed: readonly NodeChange[] };
  readonly layers: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly LayerChange[] };
  /** Kernels by what they compute, their result and layers (`matmul → add → relu -> float32[N,64] @ dense_1`). */
  readonly kernels: { readonly a: number; readonly b: number; readonly added: readonly string[]; readonly removed: readonly string[] };
  readonly totals: { readonly params: readonly [number, number]; readonly flops: readonly [number, number] };
}

const shapeText = (s: readonly Dim[]) => `[${s.join(',')}]`;

/** Each node's key: its layer (or `-`), op, and how many nodes of that op came before it in that layer. */
function keyed(nodes: readonly DocNode[]): Map<string, DocNode> {
  const seen = new Map<string, number>();
  const out = new Map<string, DocNode>();
  for (const n of nodes) {
    const base = `${n.layer ?? '-'}/${n.op}`;
    const k = seen.get(base) ?? 0;
    seen.set(base, k + 1);
    out.set(`${base}#${k}`, n);
  }
  return out;
}

/** What differs between two nodes of the same key: type, attributes, and inputs (by their keys). */
function nodeChanges(x: DocNode, y: DocNode, keyA: ReadonlyMap<number, string>, keyB: ReadonlyMap<number, string>): string[] {
  const changes: string[] = [];
  if (x.dtype !== y.dtype) changes.push(`dtype ${x.dtype} → ${y.dtype}`);
  if (shapeText(x.shape) !== shapeText(y.shape)) changes.push(`shape ${shapeText(x.shape)} → ${shapeText(y.shape)}`);
  // Attribute by attribute; a source node's dtype and shape attributes repeat its type, already compared.
  const keys = [...new Set([...Object.keys(x.attrs), ...Object.keys(y.attrs)])].filter((k) => !(['dtype', 'shape'].includes(k) && ['input', 'param', 'const'].includes(x.op)));
  for (const k of keys) {
    const [ax, ay] = [JSON.stringify(x.attrs[k]) ?? 'absent', JSON.stringify(y.attrs[k]) ?? 'absent'];
    if (ax !== ay) changes.push(`${k} ${ax} → ${ay}`);
  }
  const [ix, iy] = [x.inputs.map((i) => keyA.get(i)).join(', '), y.inputs.map((i) => keyB.get(i)).join(', ')];
  if (ix !== iy) changes.push(`inputs (${ix}) → (${iy})`);
  return changes;
}

const describe = (key: string, n: DocNode): NodeKey => ({ key, op: n.op, ...(n.layer !== undefined ? { layer: n.layer } : {}), shape: n.shape, dtype: n.dtype });

/** Kernels as a multiset of `description -> type @ layers`: what two compilations can share (names are positions). */
function kernelBag(doc: GraphDoc): string[] {
  return doc.kernels.map((k) => `${k.description} -> ${k.dtype}${shapeText(k.shape)}${k.layers.length ? ` @ ${k.layers.join(', ')}` : ''}`);
}

/** Items of `xs` not matched one-for-one in `ys` (a multiset difference). */
function minus(xs: readonly string[], ys: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const y of ys) left.set(y, (left.get(y) ?? 0) + 1);
  return xs.filter((x) => {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    return n === 0;
  });
}

/** The differences between documents `a` and `b`; pure. */
export function diffDocs(a: GraphDoc, b: GraphDoc): GraphDiff {
  const [ka, kb] = [keyed(a.nodes), keyed(b.nodes)];
  const idKeyA = new Map([...ka].map(([k, n]) => [n.id, k]));
  const idKeyB = new Map([...kb].map(([k, n]) => [n.id, k]));
  const added = [...kb].filter(([k]) => !ka.has(k)).map(([k, n]) => describe(k, n));
  const removed = [...ka].filter(([k]) => !kb.has(k)).map(([k, n]) => describe(k, n));
  const changed = [...ka].flatMap(([k, x]) => {
    const y = kb.get(k);
    const changes = y ? nodeChanges(x, y, idKeyA, idKeyB) : [];
    return changes.length ? [{ key: k, changes }] : [];
  });
  const la = new Map(a.layers.map((l) => [l.name, l]));
  const lb = new Map(b.layers.map((l) => [l.name, l]));
  const layerChanges = a.layers.flatMap((l) => {
    const m = lb.get(l.name);
    if (!m) return [];
    const changes: string[] = [];
    if (l.kind !== m.kind) changes.push(`kind ${l.kind} → ${m.kind}`);
    if (shapeText(l.outputShape) !== shapeText(m.outputShape)) changes.push(`output ${shapeText(l.outputShape)} → ${shapeText(m.outputShape)}`);
    if (l.params !== m.params) changes.push(`params ${formatCount(l.params)} → ${formatCount(m.params)}`);
    if (l.flops !== m.flops) changes.push(`FLOPs ${formatCount(l.flops)} → ${formatCount(m.flops)}`);
    return changes.length ? [{ name: l.name, changes }] : [];
  });
  const [bagA, bagB] = [kernelBag(a), kernelBag(b)];
  const kernels = { a: a.kernels.length, b: b.kernels.length, added: minus(bagB, bagA), removed: minus(bagA, bagB) };
  const layers = { added: b.layers.filter((l) => !la.has(l.name)).map((l) => l.name), removed: a.layers.filter((l) => !lb.has(l.name)).map((l) => l.name), changed: layerChanges };
  const same = !added.length && !removed.length && !changed.length && !layers.added.length && !layers.removed.length && !layerChanges.length && !kernels.added.length && !kernels.removed.length;
  return {
    a: { model: a.model, stage: a.stage },
    b: { model: b.model, stage: b.stage },
    same,
    nodes: { added, removed, changed },
    layers,
    kernels,
    totals: { params: [a.totals.params, b.totals.params], flops: [a.totals.flops, b.totals.flops] },
  };
}

/** The diff as text: one line per difference, `+` added, `-` removed, `~` changed. */
export function formatDiff(d: GraphDiff): string {
  const s = sanitizeLine;
  const head = `diff ${s(d.a.model)} (${d.a.stage}) → ${s(d.b.model)} (${d.b.stage})`;
  if (d.same) return `${head}: no differences`;
  const node = (n: NodeKey) => `${s(n.key)} ${n.dtype}${shapeText(n.shape)}`;
  return [
    head,
    `parameters ${formatCount(d.totals.params[0])} → ${formatCount(d.totals.params[1])}; FLOPs per sample ${formatCount(d.totals.flops[0])} → ${formatCount(d.totals.flops[1])}; kernels ${d.kernels.a} → ${d.kernels.b}`,
    ...d.layers.removed.map((l) => `- layer ${s(l)}`),
    ...d.layers.added.map((l) => `+ layer ${s(l)}`),
    ...d.layers.changed.map((l) => `~ layer ${s(l.name)}: ${s(l.changes.join('; '))}`),
    ...d.nodes.removed.map((n) => `- node ${node(n)}`),
    ...d.nodes.added.map((n) => `+ node ${node(n)}`),
    ...d.nodes.changed.map((n) => `~ node ${s(n.key)}: ${s(n.changes.join('; '))}`),
    ...d.kernels.removed.map((k) => `- kernel ${s(k)}`),
    ...d.kernels.added.map((k) => `+ kernel ${s(k)}`),
  ].join('\n');
}
