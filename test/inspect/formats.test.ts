// Tests for `kiln inspect`'s formats: golden files of text, JSON, DOT and Mermaid for seed models,
// DOT parsed back by a real parser (dotparser), Mermaid checked line by line, hostile names inert.
//
// Golden files live in test/inspect/golden/<model>.<txt|json|dot|mmd>. After an intended change
// to the output, regenerate them and review the diff:
//   KILN_UPDATE_GOLDEN=1 npx vitest run test/inspect/formats.test.ts
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import parse, { type Stmt } from 'dotparser';
import { describe, expect, it } from 'vitest';
import type { GraphDoc } from '../../compiler/inspect/graph-doc.ts';
import { inspectDoc, renderers } from '../../cli/inspect.ts';
import { ROOT, kiln, showRun } from '../e2e/helpers.ts';

const GOLDEN = path.join(ROOT, 'test', 'inspect', 'golden');
const UPDATE = process.env.KILN_UPDATE_GOLDEN === '1';
const MODELS: Record<string, string> = { mlp: 'examples/mlp.ts', 'cnn-small': 'examples/cnn-small.ts', residual: 'test/inspect/fixtures/residual.ts' };
const EXT: Record<string, string> = { text: 'txt', json: 'json', dot: 'dot', mermaid: 'mmd' };

/** Compares `text` with the golden file (or writes it, with KILN_UPDATE_GOLDEN=1). */
function golden(name: string, text: string): void {
  const file = path.join(GOLDEN, name);
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) throw new Error(`no golden file ${name}: run with KILN_UPDATE_GOLDEN=1 and review it`);
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
    return;
  }
  expect(text, `${name} differs from its golden file (KILN_UPDATE_GOLDEN=1 to regenerate)`).toBe(readFileSync(file, 'utf8'));
}

/** Each node statement of a parsed DOT graph with its label, and each cluster's node ids. */
function dotShape(stmts: readonly Stmt[]): { nodes: Map<string, string>; clusters: Map<string, string[]>; edges: number } {
  const nodes = new Map<string, string>();
  const clusters = new Map<string, string[]>();
  let edges = 0;
  const stack: { stmts: readonly Stmt[]; cluster?: string }[] = [{ stmts }];
  while (stack.length) {
    const { stmts: list, cluster } = stack.pop()!;
    for (const s of list) {
      if (s.type === 'node_stmt') {
        const label = s.attr_list.find((a) => a.id === 'label')?.eq;
        nodes.set(String(s.node_id.id), typeof label === 'string' ? label : '');
        if (cluster) clusters.get(cluster)!.push(String(s.node_id.id));
      } else if (s.type === 'edge_stmt') edges += s.edge_list.length - 1;
      else if (s.type === 'subgraph') {
        const id = String(s.id);
        clusters.set(id, []);
        stack.push({ stmts: s.children, cluster: id });
      }
    }
  }
  return { nodes, clusters, edges };
}

/** A DOT label as Graphviz shows it: `\n` a line break, `\\` a backslash (quotes are already unescaped by the parser). */
const dotLabelText = (label: string) => label.replace(/\\(n|\\)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));

/** A Mermaid quoted label decoded: `#<code>;` entity codes back to characters. */
const mermaidText = (label: string) => label.replace(/#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));

const docs = new Map<string, Promise<GraphDoc>>();
const docOf = (name: string) => docs.get(name) ?? (docs.set(name, inspectDoc(MODELS[name], {})), docs.get(name)!);

describe('kiln inspect golden files', () => {
  for (const name of Object.keys(MODELS)) {
    for (const format of Object.keys(EXT)) {
      it(`${name} as ${format}`, async () => {
        golden(`${name}.${EXT[format]}`, renderers[format](await docOf(name)) + '\n');
      });
    }
  }
});

describe('DOT', () => {
  it('parses back with one node per graph node (plus outputs) and one cluster per kernel holding its nodes', async () => {
    for (const name of Object.keys(MODELS)) {
      const doc = await docOf(name);
      const [g] = parse(renderers.dot(doc));
      const { nodes, clusters, edges } = dotShape(g.children);
      expect(nodes.size).toBe(doc.nodes.length + doc.outputs.length);
      expect([...clusters.keys()].sort()).toEqual(doc.kernels.map((k) => `cluster_${k.name}`).sort());
      for (const k of doc.kernels) expect(clusters.get(`cluster_${k.name}`)!.sort()).toEqual(doc.nodes.filter((n) => n.kernel === k.name).map((n) => `n${n.id}`).sort());
      expect(edges).toBe(doc.nodes.reduce((s, n) => s + n.inputs.length, 0) + doc.outputs.length);
    }
  });

  it('keeps hostile names inside their labels: quotes, backslashes, newlines, braces', async () => {
    const doc = await inspectDoc('test/inspect/fixtures/hostile.ts', {});
    const { nodes, clusters } = dotShape(parse(renderers.dot(doc))[0].children);
    expect(nodes.size).toBe(doc.nodes.length + doc.outputs.length);
    expect(clusters.size).toBe(doc.kernels.length);
    const relu = doc.nodes.find((n) => n.op === 'relu')!;
    expect(dotLabelText(nodes.get(`n${relu.id}`)!)).toBe(`%${relu.id} relu\nf32[N,3]\nc\\"d" -> e[x]`);
    const matmul = doc.nodes.find((n) => n.op === 'matmul')!;
    expect(dotLabelText(nodes.get(`n${matmul.id}`)!)).toBe(`%${matmul.id} matmul\nf32[N,3]\na"b\\"}\n];subgraph X{ <b>#35;</b> */ %% end`);
  });

  it('with --train, draws the training step\'s kernels as clusters of their own', async () => {
    const doc = await inspectDoc('test/inspect/fixtures/residual.ts', { train: true });
    const { clusters } = dotShape(parse(renderers.dot(doc))[0].children);
    expect(clusters.size).toBe(doc.kernels.length + doc.training!.kernels.length);
  });
});

describe('Mermaid', () => {
  /** Node definitions `id["label"]` (and outputs `id(["label"])`), subgraphs, ends and edges, line by line. */
  function mermaidShape(text: string) {
    const lines = text.split('\n');
    const nodes = new Map<string, string>();
    let [subgraphs, ends, edges, depth] = [0, 0, 0, 0];
    for (const line of lines.slice(1)) {
      const t = line.trim();
      let m: RegExpExecArray | null;
      if ((m = /^subgraph (\w+)\["([^"]*)"\]$/.exec(t))) {
        subgraphs++;
        depth++;
        expect(depth).toBe(1);
      } else if (t === 'end') {
        ends++;
        depth--;
      } else if ((m = /^(\w+) --> (\w+)$/.exec(t))) edges++;
      else if ((m = /^(\w+)(?:\["([^"]*)"\]|\(\["([^"]*)"\]\))$/.exec(t))) nodes.set(m[1], m[2] ?? m[3]);
      else throw new Error(`unexpected Mermaid line: ${line}`);
    }
    return { first: lines[0], nodes, subgraphs, ends, edges };
  }

  it('is a flowchart with one subgraph per kernel, every node defined once, every label quoted', async () => {
    for (const name of Object.keys(MODELS)) {
      const doc = await docOf(name);
      const m = mermaidShape(renderers.mermaid(doc));
      expect(m.first).toBe('flowchart TB');
      expect(m.subgraphs).toBe(doc.kernels.length);
      expect(m.ends).toBe(m.subgraphs);
      expect(m.nodes.size).toBe(doc.nodes.length + doc.outputs.length);
      expect(m.edges).toBe(doc.nodes.reduce((s, n) => s + n.inputs.length, 0) + doc.outputs.length);
    }
  });

  it('escapes hostile names: no quote, bracket or newline escapes its label, and the entities decode to the name', async () => {
    const doc = await inspectDoc('test/inspect/fixtures/hostile.ts', {});
    const m = mermaidShape(renderers.mermaid(doc));
    expect(m.nodes.size).toBe(doc.nodes.length + doc.outputs.length);
    const relu = doc.nodes.find((n) => n.op === 'relu')!;
    expect(mermaidText(m.nodes.get(`n${relu.id}`)!)).toBe(`%${relu.id} relu f32[N,3] c\\"d" -> e[x]`);
  });
});

describe('kiln inspect as a process', () => {
  it('writes a format to --out and refuses an unknown format naming the ones there are', async () => {
    const out = path.join(ROOT, 'test', '.out', 'inspect-cli.dot');
    mkdirSync(path.dirname(out), { recursive: true });
    const r = await kiln('inspect', 'examples/mlp.ts', '--format', 'dot', '--out', out);
    expect(r.status, showRun(r)).toBe(0);
    expect(r.stdout.trim()).toBe(`wrote ${out}`);
    expect(readFileSync(out, 'utf8')).toBe(renderers.dot(await docOf('mlp')) + '\n');
    const bad = await kiln('inspect', 'examples/mlp.ts', '--format', 'svg');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unknown format 'svg' \(available: text, json, dot, mermaid/);
  });
});
