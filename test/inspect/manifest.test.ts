// Tests for the manifest every emitted module exports: present, typed in the .d.mts, and right for a
// hand-built model on both backends; `kiln inspect` reads it from a module without the model file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { graphHash } from '../../compiler/inspect/hash.ts';
import { COMPILER_VERSION } from '../../src/version.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { freshOutDir, kiln, loadExampleGraph, showRun } from '../e2e/helpers.ts';
import { tinyGraph } from '../ir/fixtures.ts';
import { pathToFileURL } from 'node:url';
import { manifestFromText } from '../../compiler/inspect/manifest-text.ts';
import type { ModuleManifest } from '../../compiler/emit/manifest.ts';
import { inspectCommand } from '../../cli/inspect.ts';

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

  it('read from the text without importing: the same value the module exports (hostile names, a trainer, GPU.js)', async () => {
    const cases = {
      hostile: compileModel(hostileGraph(), { backend: 'js' }).js,
      trainer: compileModel(tinyGraph(), { backend: 'js', training: { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 } } }).js,
      gpujs: compileModel(tinyGraph(), { backend: 'gpujs' }).js,
    };
    const dir = freshOutDir('inspect-manifest-text');
    for (const [name, js] of Object.entries(cases)) {
      const file = path.join(dir, `${name}.mjs`);
      writeFileSync(file, js);
      const { manifest } = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { manifest: unknown };
      expect(manifestFromText(js, file), name).toEqual(manifest);
    }
    expect(() => manifestFromText('export const manifest = { a: [1, "x" 2] };', 'm.mjs')).toThrow(/^m\.mjs: its manifest is not the literal Kiln writes/);
    expect(manifestFromText('export const other = {};', 'm.mjs')).toBeUndefined();
  }, 120_000);

  it('kiln inspect on a module compiled outside any project with Kiln installed (it used to fail importing it: "Cannot find package \'kiln\'")', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-inspect-outside-'));
    try {
      const compiled = await kiln('compile', 'examples/mlp.ts', '--out', dir);
      expect(compiled.status, showRun(compiled)).toBe(0);
      const file = path.join(dir, 'mlp.mjs');
      const text = await kiln('inspect', file);
      expect(text.status, showRun(text)).toBe(0);
      expect(text.stdout).toContain('module "mlp" (backend js');
      const json = await kiln('inspect', file, '--format', 'json');
      expect(json.status, showRun(json)).toBe(0);
      // The manifest the same module exports where 'kiln' resolves (a copy inside this checkout).
      const inside = path.join(freshOutDir('inspect-manifest-outside'), 'mlp.mjs');
      writeFileSync(inside, (await import('node:fs')).readFileSync(file, 'utf8'));
      const { manifest } = (await import(/* @vite-ignore */ pathToFileURL(inside).href)) as { manifest: unknown };
      expect(JSON.parse(json.stdout)).toEqual(manifest);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a module that does not declare its manifest as a literal is imported; a package it lacks is a one-line error', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-inspect-bundled-'));
    try {
      const file = path.join(dir, 'bundled.mjs');
      writeFileSync(file, "import { m } from 'kiln-no-such-package';\nexport const manifest = m;\n");
      await expect(inspectCommand(file, {})).rejects.toThrow(/^cannot load .*bundled\.mjs to read its manifest: it imports 'kiln-no-such-package', which is not installed where the module is/);
      const bad = await kiln('inspect', file);
      expect(bad.status).toBe(1);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      const malformed = path.join(dir, 'malformed.mjs');
      writeFileSync(malformed, 'export const manifest = { format: "kiln.manifest", kernels: [k0] ');
      await expect(inspectCommand(malformed, {})).rejects.toThrow(/its manifest is not the literal Kiln writes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kiln inspect on a GPU.js module', () => {
  it("marks the kernels that run Kiln's WGSL on WebGPU, and only those", async () => {
    const dir = freshOutDir('manifest-wgsl');
    const file = path.join(dir, 'cnn.mjs');
    const c = compileModel(await loadExampleGraph('cnn'), { backend: 'gpujs' });
    writeFileSync(file, c.js);
    const m = manifestFromText(c.js, file) as ModuleManifest;
    expect(m.wgslKernels!.length).toBeGreaterThan(0);
    const r = await kiln('inspect', file);
    expect(r.status, showRun(r)).toBe(0);
    const marked = r.stdout.split('\n').filter((l) => l.endsWith('[WGSL on WebGPU]')).map((l) => l.trim().split(':')[0]);
    expect(marked).toEqual(m.kernels.map((k) => k.name).filter((n) => m.wgslKernels!.includes(n)));
    // The convolutions and dense layers are contractions: those are the WGSL ones.
    for (const k of m.kernels) expect(marked.includes(k.name), `${k.name} ${k.ops}`).toBe(/conv2d|matmul/.test(k.ops));
  });
});
