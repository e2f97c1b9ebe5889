// Tests for the manifest every emitted module exports: present, typed in the .d.mts, and right for a
// hand-built model on both backends; `kiln inspect` reads it from a module without the model file.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { graphHash } from '../../compiler/inspect/hash.ts';
import { COMPILER_VERSION } from '../../src/version.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { freshOutDir, kiln, showRun } from '../e2e/helpers.ts';
import { tinyGraph } from '../ir/fixtures.ts';
import { pathToFileURL } from 'node:url';

/** tinyGraph with a hostile layer name on its relu: quotes, a newline, a comment end and a backtick. */
function hostileGraph(): Graph {
  const g = tinyGraph();
  const relu = g.outputs[0].node;
  const evil = makeNode('sigmoid', [relu], {}, { layer: 'ev"il\n*/`${x}`', layerKind: 'Activation' });
  return { ...g, outputs: [{ name: 'y', node: evil }] };
}

describe('manifest', () => {
  it('js: the module exports what it is and each kernel with its layers; the .d.mts declares it', async () => {
    const g = tinyGraph();
    const c = compileModel(g, { backend: 'js' });
    const dir = freshOutDir('inspect-manifest-js');
    const file = path.join(dir, 'tiny.mjs');
    writeFileSync(file, c.js);
    const { manifest } = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { manifest: Record<string, unknown> };
    expect(manifest).toEqual({
      format: 'kiln.manifest',
      version: 1,
      model: 'tiny',
      graphHash: graphHash(g),
      compilerVersion: COMPILER_VERSION,
      backend: 'js',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
      kernels: [{ name: 'k0', ops: 'matmul → add → relu', layers: ['fc'] }],
    });
    expect(c.dts).toMatch(/export declare const manifest: ModuleManifest;/);
    expect(c.dts).toMatch(/export type ModuleManifest = \{/);
  });

  it('gpujs: the same manifest, backend gpujs; with a trainer, its kernels too', () => {
    const c = compileModel(tinyGraph(), { backend: 'gpujs' });
    expect(c.js).toMatch(/export const manifest = \{[^\n]*backend: "gpujs"/);
    const t = compileModel(tinyGraph(), { backend: 'js', training: { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 } } });
    expect(t.js).toMatch(/export const manifest = \{[^\n]*trainerKernels: \[/);
  });

  it('keeps hostile layer names inert: string literals, and the module still parses and imports', async () => {
    const c = compileModel(hostileGraph(), { backend: 'js' });
    const dir = freshOutDir('inspect-manifest-hostile');
    const file = path.join(dir, 'tiny.mjs');
    writeFileSync(file, c.js);
    const { manifest } = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { manifest: { kernels: { layers: string[] }[] } };
    expect(manifest.kernels.flatMap((k) => k.layers)).toContain('ev"il\n*/`${x}`');
  });

  it('kiln inspect on an emitted module prints its manifest (text and JSON), and refuses graph formats', async () => {
    const dir = freshOutDir('inspect-manifest-cli');
    const file = path.join(dir, 'tiny.mjs');
    writeFileSync(file, compileModel(tinyGraph(), { backend: 'js' }).js);
    const text = await kiln('inspect', file);
    expect(text.status, showRun(text)).toBe(0);
    expect(text.stdout).toContain('module "tiny" (backend js');
    expect(text.stdout).toContain('k0: matmul → add → relu  fc');
    const json = await kiln('inspect', file, '--format', 'json');
    expect(JSON.parse(json.stdout).kernels[0].layers).toEqual(['fc']);
    const dot = await kiln('inspect', file, '--format', 'dot');
    expect(dot.status).toBe(1);
    expect(dot.stderr).toMatch(/--format text or json/);
  });
});
