// `kiln inspect --format dot`: the inspection document as a Graphviz digraph, each fused kernel a
// cluster of the nodes it computes; every label is escaped for DOT's quoted strings.
import { formatType } from '../../src/ir/print.ts';
import type { DocGraph, DocNode, GraphDoc } from './graph-doc.ts';

/**
 * A DOT quoted string: backslash and quote escaped, control characters (newlines included) as
 * `\n` or dropped, so a hostile layer name can neither end the string nor start a statement.
 */
export function dotString(text: string): string {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, '\\n')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  return `"${escaped}"`;
}

const SHAPES: Record<string, string> = { input: 'invhouse', param: 'note', const: 'note' };

function nodeLabel(n: DocNode): string {
  const layer = n.layer !== undefined ? `\n${n.layer}` : '';
  return `%${n.id} ${n.op}\n${formatType({ dtype: n.dtype, shape: n.userShape ?? n.shape })}${layer}`;
}

function nodeStatement(prefix: string, n: DocNode): string {
  return `${prefix}n${n.id} [label=${dotString(nodeLabel(n))}, shape=${SHAPES[n.op] ?? 'box'}];`;
}

/** The statements of one graph: clusters (one per kernel), then the loose nodes, then edges; ids prefixed to keep two graphs apart. */
function graphStatements(g: DocGraph, prefix: string): string[] {
  const lines: string[] = [];
  const inKernel = new Map<string, DocNode[]>();
  for (const n of g.nodes) if (n.kernel) inKernel.set(n.kernel, [...(inKernel.get(n.kernel) ?? []), n]);
  for (const k of g.kernels) {
    const members = inKernel.get(k.name);
    if (!members) continue;
    lines.push(`  subgraph ${dotString(`cluster_${prefix}${k.name}`)} {`, `    label=${dotString(`${k.name}: ${k.description}`)};`, '    style=rounded; color=gray50;');
    lines.push(...members.map((n) => nodeStatement(`    ${prefix}`, n)), '  }');
  }
  lines.push(...g.nodes.filter((n) => !n.kernel).map((n) => nodeStatement(`  ${prefix}`, n)));
  for (const n of g.nodes) for (const i of n.inputs) lines.push(`  ${prefix}n${i} -> ${prefix}n${n.id};`);
  g.outputs.forEach((o, i) => lines.push(`  ${prefix}out${i} [label=${dotString(o.name)}, shape=house];`, `  ${prefix}n${o.node} -> ${prefix}out${i};`));
  return lines;
}

/** The document as DOT: the graph at its stage (and the training step, as its own clusters' graph, with `--train`). */
export function renderDot(doc: GraphDoc): string {
  const lines = ['digraph kiln {', `  label=${dotString(`${doc.model} after ${doc.stage}`)};`, '  rankdir=TB;', '  node [fontname="Helvetica", fontsize=10];', ...graphStatements(doc, '')];
  if (doc.training) lines.push(...graphStatements(doc.training, 't_'));
  lines.push('}');
  return lines.join('\n');
}
