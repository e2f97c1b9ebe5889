// The runtime entries emitted modules import (`kiln/runtime/inference`, `kiln/runtime`, `/node`,
// `/gpujs`) ship bundled (scripts/build-dist.mjs, after `npm run build`): the same exports as the
// per-file build, one copy of the runtime however many entries an application loads, the
// inference entry one file and the others layered over it (Node's loader costs about a millisecond
// a file); the browser entries free of Node built-ins, and Node's importing none as an ES module
// (each such import loads Node's streams: milliseconds more).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/helpers.ts';

const DIST = path.join(ROOT, 'dist', 'runtime');
const nodeIndexText = () => readFileSync(path.join(DIST, 'bundle', 'index-node.js'), 'utf8');
const load = (file: string) => import(/* @vite-ignore */ pathToFileURL(path.join(DIST, file)).href) as Promise<Record<string, unknown>>;

/** Every specifier a bundle file imports statically (`import … from '…'`, `export … from '…'`). */
const importsOf = (file: string): string[] => [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gms)].map((m) => m[1]);

/** The files an entry loads, itself included, following relative imports. */
function closure(entry: string): { files: string[]; external: string[] } {
  const files = new Set<string>();
  const external = new Set<string>();
  const todo = [path.join(DIST, 'bundle', entry)];
  while (todo.length) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const s of importsOf(f)) (s.startsWith('.') ? todo.push(path.resolve(path.dirname(f), s)) : external.add(s));
  }
  return { files: [...files], external: [...external] };
}

describe('the bundled runtime (package exports of kiln/runtime)', () => {
  it('exports what the per-file build of each entry exports', async () => {
    for (const entry of ['index.js', 'index-node.js', 'node.js']) {
      expect(Object.keys(await load(`bundle/${entry}`)).sort(), entry).toEqual(Object.keys(await load(entry)).sort());
    }
  });

  it('the inference entry exports what its per-file build does (and, for the entries above it, more), and carries no training code', async () => {
    const [bundled, perFile] = await Promise.all([load('bundle/inference.js'), load('inference.js')]);
    for (const name of Object.keys(perFile)) expect(bundled, name).toHaveProperty(name);
    // What it leaves to kiln/runtime: the trainer, the fit loop, data sources, schedules, the IDX reader.
    const text = readFileSync(path.join(DIST, 'bundle', 'inference.js'), 'utf8');
    for (const name of ['trainerShell', 'fitLoop', 'fitLoopAsync', 'arrayRows', 'earlyStopping', 'scheduledLr', 'parseIdx']) {
      expect(text, name).not.toMatch(new RegExp(`\\bfunction ${name}\\b`));
      expect(nodeIndexText(), name).toMatch(new RegExp(`\\bfunction ${name}\\b`));
    }
  });

  it("kiln/runtime/inference, kiln/runtime and kiln/runtime/node share one copy: the same functions and classes", async () => {
    const [inference, browser, nodeIndex, node, perFile] = await Promise.all([load('bundle/inference.js'), load('bundle/index.js'), load('bundle/index-node.js'), load('bundle/node.js'), load('inference.js')]);
    for (const name of Object.keys(browser)) expect(nodeIndex, name).toHaveProperty(name);
    for (const name of Object.keys(nodeIndex)) expect(node[name], name).toBe(nodeIndex[name]);
    // Every name of kiln/runtime/inference is kiln/runtime's own (a WeightFileError thrown by an
    // inference-only module is an instance of the class an application imports from kiln/runtime).
    for (const name of Object.keys(perFile)) {
      expect(nodeIndex[name], name).toBe(inference[name]);
      expect(browser[name], name).toBe(inference[name]);
    }
    expect(closure('node.js').files.map((f) => path.basename(f)).sort()).toEqual(['index-node.js', 'inference.js', 'node.js']);
  });

  it('the inference entry is one file; kiln/runtime is two, in browsers with no Node built-in and in Node importing none', () => {
    const inference = closure('inference.js');
    expect(inference.external).toEqual([]);
    expect(inference.files).toHaveLength(1);
    for (const entry of ['index.js', 'index-node.js']) {
      const c = closure(entry);
      expect(c.external, entry).toEqual([]);
      expect(c.files.map((f) => path.basename(f)).sort(), entry).toEqual([entry, 'inference.js'].sort());
    }
    // ASCII only: V8 keeps a source with one character above U+00FF (an en dash in a comment) as
    // two-byte text, decoding and scanning all of it slower.
    for (const entry of ['inference.js', 'index.js', 'index-node.js', 'node.js']) expect(readFileSync(path.join(DIST, 'bundle', entry), 'utf8'), entry).toMatch(/^[\x00-\x7f]*$/);
    expect(closure('gpujs.js').external.filter((s) => s.startsWith('node:'))).toEqual([]);
  });
});
