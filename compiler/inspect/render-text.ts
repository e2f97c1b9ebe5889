// `kiln inspect --format text`: the inspection document as lines, like `kiln ir` with layers,
// kernels and memory: the dtype and shape on every node line.
import type { TensorType } from '../../src/ir/node.ts';
import { formatAttrValue, formatType, sanitizeLine } from '../../src/ir/print.ts';
import { formatCount } from './table.ts';
import { formatBytes } from './summary.ts';
import type { DocGraph, DocNode, GraphDoc } from './graph-doc.ts';

/** Attributes that repeat a source node's type, which the line already shows. */
const TYPE_ATTRS = new Set(['dtype', 'shape']);

const typeOf = (n: DocNode, shape = n.shape) => formatType({ dtype: n.dtype, shape } as TensorType);

/** A scan's body summary (graph-doc.ts) as a reference to the loop listed below the graph. */
const isBodySummary = (v: unknown): v is { loop: number; nodes: number } => typeof v === 'object' && v !== null && typeof (v as { loop?: unknown }).loop === 'number';

function attrText(n: DocNode): string {
  const entries = Object.entries(n.attrs).filter(([k]) => !TYPE_ATTRS.has(k) || !['input', 'param', 'const'].includes(n.op));
  const value = (k: string, v: unknown) => (n.op === 'scan' && k === 'body' && isBodySummary(v) ? `<loop ${v.loop}: ${v.nodes} nodes>` : formatAttrValue(v));
  return entries.length ? `[${entries.map(([k, v]) => `${sanitizeLine(k)}=${value(k, v)}`).join(' ')}]` : '';
}

/** `%4: f32[N,64] = add(%3, %2)   # dense_1 (Dense) k0 model.ts:5`; user-layout shapes follow as `(NHWC [N,26,26,32])`. */
function nodeLine(n: DocNode, phase: boolean): string {
  const user = n.userShape ? ` (NHWC ${typeOf(n, n.userShape)})` : '';
  const code = `%${n.id}: ${typeOf(n)}${user} = ${n.op}${attrText(n)}(${n.inputs.map((i) => `%${i}`).join(', ')})`;
  const layer = n.layer !== undefined ? `${sanitizeLine(n.layer)}${n.layerKind && n.layerKind !== n.layer ? ` (${sanitizeLine(n.layerKind)})` : ''}` : '';
  const notes = [phase ? `[${n.phase}]` : '', layer, n.kernel ?? '', n.source ? sanitizeLine(n.source) : ''].filter(Boolean);
  return notes.length ? `  ${code}   # ${notes.join(' ')}` : `  ${code}`;
}

function kernelLines(g: DocGraph): string[] {
  return g.kernels.map((k) => {
    const backends = ['js', ...(k.backends.wasmSimd ? ['wasm-simd'] : []), 'gpujs'].join(',');
    const layers = k.layers.length ? `  ${sanitizeLine(k.layers.join(', '))}` : '';
    const loop = k.loop !== undefined ? `  (loop ${k.loop}, each step)` : '';
    return `  ${k.name}: ${sanitizeLine(k.description)} -> ${formatType({ dtype: k.dtype, shape: k.shape })}  ${formatCount(k.flops)} FLOPs  [${backends}]${layers}${loop}`;
  });
}

function memoryLines(g: DocGraph): string[] {
  const m = g.memory;
  return [`memory at batch ${m.batch}: parameters ${formatBytes(m.parameterBytes)}, results alive at most ${formatBytes(m.peak.bytes)}${m.peak.kernel ? ` (at ${m.peak.kernel})` : ''}`];
}

const returnLine = (outputs: DocGraph['outputs']) => `  return { ${outputs.map((o) => `${sanitizeLine(JSON.stringify(o.name))}: %${o.node}`).join(', ')} }`;

/** Each scan's body below the graph, as `kiln ir` prints a graph; its ids are its own. */
function loopLines(g: DocGraph, phase: boolean): string[] {
  return (g.loops ?? []).flatMap((l) => {
    const where = l.parent === null ? `%${l.node}` : `%${l.node} of loop ${l.parent}`;
    const how = [`${l.steps} steps`, ...(l.reverse ? ['reversed'] : []), ...(l.stack ? ['stacked'] : [])].join(', ');
    return [`loop ${l.id}: body of scan ${where} (${how}) {`, ...l.nodes.map((n) => nodeLine(n, phase)), returnLine(l.outputs), '}'];
  });
}

function graphSection(title: string, g: DocGraph, phase: boolean): string[] {
  return [
    `${title} {`,
    ...g.nodes.map((n) => nodeLine(n, phase)),
    returnLine(g.outputs),
    '}',
    ...loopLines(g, phase),
    `kernels (${g.kernels.length}):`,
    ...kernelLines(g),
    ...memoryLines(g),
  ];
}

/** The document as text: the graph at its stage, its kernels and memory; with training, the step too. */
export function renderText(doc: GraphDoc): string {
  const head = `graph ${sanitizeLine(JSON.stringify(doc.model))} after ${doc.stage} (${doc.layout}; ${formatCount(doc.totals.params)} parameters; sha256:${doc.graphHash.slice(0, 12)})`;
  const lines = graphSection(head, doc, false);
  if (doc.batchAxes) lines.splice(1, 0, `  # ${doc.batchAxes}`);
  if (doc.training) {
    const state = doc.training.state.reduce((s, t) => s + t.bytes, 0);
    lines.push('', ...graphSection(`training step (${sanitizeLine(doc.training.optimizer)}; optimizer state ${doc.training.state.length} tensors, ${formatBytes(state)})`, doc.training, true));
  }
  return lines.join('\n');
}
