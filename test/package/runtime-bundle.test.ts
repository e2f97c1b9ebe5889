// The runtime entries emitted modules import (`kiln/runtime`, `/node`, `/gpujs`) ship bundled
// (scripts/build-dist.mjs, after `npm run build`): the same exports as the per-file build, one copy
// of the runtime shared between the Node entries, and each entry one file (Node's loader costs
// about a millisecond a file); the browser entry free of Node built-ins, and Node's `kiln/runtime`
// importing none as an ES module (each such import loads Node's streams: milliseconds more).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/helpers.ts';

const DIST = path.join(ROOT, 'dist', 'runtime');
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

  it("kiln/runtime and kiln/runtime/node share one copy in Node: the same functions and classes", async () => {
    const [browser, nodeIndex, node] = await Promise.all([load('bundle/index.js'), load('bundle/index-node.js'), load('bundle/node.js')]);
    for (const name of Object.keys(browser)) expect(nodeIndex, name).toHaveProperty(name);
    for (const name of Object.keys(nodeIndex)) expect(node[name], name).toBe(nodeIndex[name]);
    expect(closure('node.js').files.map((f) => path.basename(f)).sort()).toEqual(['index-node.js', 'node.js']);
  });

  it('the browser entry is one file with no Node built-in; the Node entry one file importing none', () => {
    const browser = closure('index.js');
    expect(browser.external).toEqual([]);
    expect(browser.files).toHaveLength(1);
    const nodeIndex = closure('index-node.js');
    expect(nodeIndex.external).toEqual([]);
    expect(nodeIndex.files).toHaveLength(1);
    // ASCII only: V8 keeps a source with one character above U+00FF (an en dash in a comment) as
    // two-byte text, decoding and scanning all of it slower.
    for (const entry of ['index.js', 'index-node.js', 'node.js']) expect(readFileSync(path.join(DIST, 'bundle', entry), 'utf8'), entry).toMatch(/^[\x00-\x7f]*$/);
    expect(closure('gpujs.js').external.filter((s) => s.startsWith('node:'))).toEqual([]);
  });
});
