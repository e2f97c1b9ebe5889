// `kiln profile --backend gpujs`: GPU.js's cpu and webasm modes run each kernel to its end before
// the call returns, so the kernel times add up to the measured call; WebGL modes are refused.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { profileModel } from '../../cli/profile.ts';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { compileModel } from '../../compiler/compile.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { buildTrainingGraph } from '../../compiler/train/step.ts';
import { freshOutDir, kiln, loadExampleGraph, ROOT, showRun } from '../e2e/helpers.ts';
import { attributionGap, closestProfile } from './profile-support.ts';

const CNN = path.join(ROOT, 'examples', 'cnn.ts');

describe('GPU.js profiling instrumentation', () => {
  it('is absent unless asked for, and a profiled module exports a table of every kernel at zero', async () => {
    const graph = await loadExampleGraph('mlp');
    const plain = compileModel(graph, { backend: 'gpujs' });
    expect(compileModel(graph, { backend: 'gpujs', profile: false }).js).toBe(plain.js);
    expect(plain.js).not.toContain('kernelTimes');
    expect(plain.js).not.toContain('performance.now');
    const profiled = compileModel(graph, { backend: 'gpujs', profile: true });
    const file = path.join(freshOutDir('profile-gpujs-table'), 'mlp.mjs');
    writeFileSync(file, profiled.js);
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { kernelTimes: Record<string, { ms: number; calls: number }> };
    const { program } = compileGraph(graph);
    expect(Object.keys(mod.kernelTimes)).toEqual(program.kernels.map((k) => k.name));
    expect(Object.values(mod.kernelTimes).every((e) => e.ms === 0 && e.calls === 0)).toBe(true);
  });

  it('refuses a WebGL device: its kernels run pipelined, so a call returns before its work is done', async () => {
    const graph = await loadExampleGraph('mlp');
    const c = compileModel(graph, { backend: 'gpujs', profile: true });
    const file = path.join(freshOutDir('profile-gpujs-webgl'), 'mlp.mjs');
    writeFileSync(file, c.js);
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { createModel(w: Uint8Array, o: { device: unknown }): unknown };
    // A device that says it runs WebGL 2 (Node has no WebGL): the check runs before the device is used.
    for (const backend of ['webgl2', 'webgl', 'headlessgl']) {
      expect(() => mod.createModel(c.weights, { device: { backend } })).toThrow(new RegExp(`cpu or webasm mode: on '${backend}' kernels run pipelined`));
    }
  });
});

describe('kiln profile --backend gpujs', () => {
  it.each(['cpu', 'webasm'])("CNN predict on GPU.js's %s mode: the fusion list's kernels, each called once per run, adding up to the call within 10 %%", async (gpuMode) => {
    const r = await closestProfile(() => profileModel(CNN, { batch: 8, runs: 4, backend: 'gpujs', gpuMode }));
    expect(r.backend).toBe('gpujs');
    const { program } = compileGraph(await loadExampleGraph('cnn'));
    expect(r.kernels.map((k) => k.name)).toEqual(program.kernels.map((k) => k.name));
    expect(r.kernels.map((k) => k.calls)).toEqual(program.kernels.map(() => 4));
    expect(r.kernels.every((k) => k.ms > 0)).toBe(true);
    expect(attributionGap(r)).toBeLessThan(0.1);
  });

  it('the training step on the cpu mode: the training program kernels add up to the step within 10 %', async () => {
    const r = await closestProfile(() => profileModel(CNN, { batch: 8, runs: 2, train: true, backend: 'gpujs', gpuMode: 'cpu' }));
    const graph = await loadExampleGraph('cnn');
    const t = buildTrainingGraph(graph, { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) });
    const { program } = compileGraph(t.graph, 't');
    expect(r.kernels.map((k) => k.name)).toEqual(program.kernels.map((k) => k.name));
    expect(r.kernels.map((k) => k.calls)).toEqual(program.kernels.map(() => 2));
    expect(attributionGap(r)).toBeLessThan(0.1);
  });

  it('refuses a WebGL --gpu-mode and --gpu-mode without gpujs, naming why', async () => {
    await expect(profileModel(CNN, { backend: 'gpujs', gpuMode: 'webgl2' })).rejects.toThrow(/--gpu-mode must be cpu or webasm \(got 'webgl2'\): on WebGL, GPU.js runs kernels pipelined/);
    await expect(profileModel(CNN, { gpuMode: 'cpu' })).rejects.toThrow(/--gpu-mode applies to --backend gpujs only/);
    await expect(profileModel(CNN, { backend: 'wasm' })).rejects.toThrow(/unknown --backend 'wasm' \(expected js or gpujs\)/);
  });

  it('runs as a process: --backend gpujs --gpu-mode cpu --json names the kernels; --gpu-mode webgl is a one-line error', async () => {
    const ok = await kiln('profile', 'examples/mlp.ts', '--backend', 'gpujs', '--gpu-mode', 'cpu', '--batch', '4', '--runs', '2', '--json');
    expect(ok.status, showRun(ok)).toBe(0);
    const r = JSON.parse(ok.stdout) as { backend: string; kernels: { name: string; calls: number }[] };
    expect(r.backend).toBe('gpujs');
    expect(r.kernels.every((k) => k.calls === 2)).toBe(true);
    const bad = await kiln('profile', 'examples/mlp.ts', '--backend', 'gpujs', '--gpu-mode', 'webgl');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--gpu-mode must be cpu or webasm/);
  });
});
