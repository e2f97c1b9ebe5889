// Build-time context of the model DSL: where each layer was written, and what it is called.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { makeNode } from '../ir/build.ts';
import type { Node, NodeMeta, SourceLoc } from '../ir/node.ts';
import type { OpName } from '../ir/ops/index.ts';

const KILN_SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The first stack frame outside Kiln's own `src/`: the line of the user's model file. */
export function callSite(): SourceLoc | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    if (file.startsWith(KILN_SRC + path.sep) || file.startsWith('node:') || file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    return { file: path.relative(process.cwd(), file) || file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

let pendingSite: SourceLoc | undefined;

/** Runs `f` attributing its layers to `site` (sequential layers record it where declared). */
export function atSite<T>(site: SourceLoc | undefined, f: () => T): T {
  const outer = pendingSite;
  pendingSite = site;
  try {
    return f();
  } finally {
    pendingSite = outer;
  }
}

const counters = new Map<string, number>();

/** Restarts layer numbering (each model file loaded by the CLI starts from `dense_1`). */
export function resetLayerNames(): void {
  counters.clear();
}

/** A unique layer name: the user's, or `kind_k` with k counting layers of that kind. */
export function layerName(kind: string, given?: string): string {
  if (given !== undefined) return given;
  const key = kind.toLowerCase();
  const k = (counters.get(key) ?? 0) + 1;
  counters.set(key, k);
  return `${key}_${k}`;
}

/** A layer under construction: its metadata, and a node maker that stamps it on every node. */
export interface LayerScope {
  readonly name: string;
  readonly meta: NodeMeta;
  node(op: OpName, inputs: readonly Node[], attrs?: Record<string, unknown>): Node;
}

export function openLayer(kind: string, name?: string): LayerScope {
  const meta: NodeMeta = { layer: layerName(kind, name), layerKind: kind, source: pendingSite ?? callSite() };
  return {
    name: meta.layer!,
    meta,
    node: (op, inputs, attrs = {}) => makeNode(op, inputs, attrs, meta),
  };
}
