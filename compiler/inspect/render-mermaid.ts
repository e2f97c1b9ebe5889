// `kiln inspect --format mermaid`: the inspection document as a Mermaid flowchart, each fused
// kernel a subgraph; labels are quoted and every character outside a plain set is an entity code.
import { formatType } from '../../src/ir/print.ts';
import type { DocGraph, DocNode, GraphDoc } from './graph-doc.ts';

/** Characters a Mermaid quoted label may hold as they are; all others become `#<code>;` (Mermaid's entity codes). */
const PLAIN = /[A-Za-z0-9 _.,:/=+\-[\]%→]/u;

/** A Mermaid quoted label: quotes, markup, `#`, brackets of other kinds and control characters as entity codes. */
export function mermaidString(text: string): string {
  return `"${[...text].map((c) => (PLAIN.test(c) ? c : `#${c.codePointAt(0)};`)).join('')}"`;
}

function nodeLabel(n: DocNode): string {
  const layer = n.layer !== undefined ? ` ${n.layer}` : '';
  return `%${n.id} ${n.op} ${formatType({ dtype: n.dtype, shape: n.userShape ?? n.shape })}${layer}`;
}

function graphLines(g: DocGraph, prefix: string): string[] {
  const lines: string[] = [];
  const node = (n: DocNode, indent: string) => `${indent}${prefix}n${n.id}[${mermaidString(nodeLabel(n))}]`;
  const inKernel = new Map<string, DocNode[]>();
  for (const n of g.nodes) if (n.kernel) inKernel.set(n.kernel, [...(inKernel.get(n.kernel) ?? []), n]);
  for (const k of g.kernels) {
    const members = inKernel.get(k.name);
    if (!members) continue;
    lines.push(`  subgraph ${prefix}${k.name}[${mermaidString(`${k.name}: ${k.description}`)}]`, ...members.map((n) => node(n, '    ')), '  end');
  }
  lines.push(...g.nodes.filter((n) => !n.kernel).map((n) => node(n, '  ')));
  for (const n of g.nodes) for (const i of n.inputs) lines.push(`  ${prefix}n${i} --> ${prefix}n${n.id}`);
  g.outputs.forEach((o, i) => lines.push(`  ${prefix}out${i}([${mermaidString(o.name)}])`, `  ${prefix}n${o.node} --> ${prefix}out${i}`));
  return lines;
}

/** The document as a Mermaid flowchart (top to bottom); with `--train`, the training step below it. */
export function renderMermaid(doc: GraphDoc): string {
  return ['flowchart TB', ...graphLines(doc, ''), ...(doc.training ? graphLines(doc.training, 't_') : [])].join('\n');
}
