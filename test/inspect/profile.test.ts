// `kiln profile` and the emitted modules' opt-in kernel timing: the times add up to the measured
// call, the kernels are the compiled program's, and a module compiled without profiling is unchanged.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { profileModel } from '../../cli/profile.ts';
import { compileModel } from '../../compiler/compile.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { buildTrainingGraph } from '../../compiler/train/step.ts';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { freshOutDir, kiln, loadExampleGraph, ROOT, showRun } from '../e2e/helpers.ts';
import { attributionGap, closestProfile } from './profile-support.ts';

const CNN = path.join(ROOT, 'examples', 'cnn.ts');

describe('profiling instrumentation in the emitted module', () => {
  it('is absent unless asked for: the default module is the same text as with profile: false', async () => {
    const graph = await loadExampleGraph('mlp');
    const plain = compileModel(graph);
    expect(compileModel(graph, { profile: false }).js).toBe(plain.js);
    expect(plain.js).not.toContain('kernelTimes');
    expect(plain.js).not.toContain('performance.now');
    const profiled = compileModel(graph, { profile: true });
    expect(profiled.js).toContain('export const kernelTimes');
    expect(profiled.dts).toContain('kernelTimes');
  });

});

describe('kiln profile', () => {
  it("CNN predict: the kernels are the fusion list's, each called once per run, and their times add up to the call within 10 %", async () => {
    const r = await closestProfile(() => profileModel(CNN, { batch: 32, runs: 6 }));
    const { program } = compileGraph(await loadExampleGraph('cnn'));
    expect(r.kernels.map((k) => k.name)).toEqual(program.kernels.map((k) => k.name));
    expect(r.kernels.map((k) => k.ops)).toEqual(program.kernels.map((k) => k.ops));
    // The same names as the manifest of the module `kiln compile` writes.
    const dir = freshOutDir('profile-manifest');
    const file = path.join(dir, 'cnn.mjs');
    writeFileSync(file, compileModel(await loadExampleGraph('cnn')).js);
    const { manifest } = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { manifest: { kernels: { name: string }[] } };
    expect(r.kernels.map((k) => k.name)).toEqual(manifest.kernels.map((k) => k.name));
    expect(r.kernels.map((k) => k.calls)).toEqual(program.kernels.map(() => 6));
    expect(r.kernels.every((k) => k.ms > 0)).toBe(true);
    expect(attributionGap(r)).toBeLessThan(0.1);
    const shares = r.kernels.reduce((s, k) => s + k.share, 0);
    expect(shares).toBeCloseTo(1, 6);
  });

  it('names the conv kernel and counts its FLOPs by hand: 3×3 conv, 1→32 channels, 28×28 → 26×26, then bias and relu', async () => {
    const r = await profileModel(CNN, { batch: 4, runs: 2 });
    const conv = r.kernels.find((k) => k.ops.includes('conv2d'))!;
    expect(conv.layers).toContain('conv2d_1');
    const out = 26 * 26 * 32;
    // 2 FLOPs per multiply-add over 3·3·1 taps, one add (bias), one max (relu) per output element.
    expect(conv.flops).toBe(4 * (2 * out * 9 + out + out));
    expect(conv.gflops).toBeCloseTo(conv.flops / conv.ms / 1e6, 9);
    const layer = r.layers.find((l) => l.layer === 'conv2d_1')!;
    expect(layer.kernels).toEqual([conv.name]);
  });

  it('the training step: the training program kernels (forward, backward, update) add up to the step within 10 %', async () => {
    // Batch 64: the step's own glue outside the kernels (about 0.45 ms here: feeding the batch, the
    // step counter, reading the loss back) is 11 % of a batch-16 step but 4 % of this one.
    const r = await closestProfile(() => profileModel(CNN, { batch: 64, runs: 3, train: true }));
    const graph = await loadExampleGraph('cnn');
    const t = buildTrainingGraph(graph, { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) });
    const { program } = compileGraph(t.graph, 't');
    expect(r.kernels.map((k) => k.name)).toEqual(program.kernels.map((k) => k.name));
    expect(r.kernels.some((k) => k.ops.includes('conv2d'))).toBe(true);
    expect(attributionGap(r)).toBeLessThan(0.1);
  });

  it('runs as a process: --json is one object naming the kernels; a bad --batch is a one-line error', async () => {
    const ok = await kiln('profile', 'examples/mlp.ts', '--batch', '8', '--runs', '3', '--json');
    expect(ok.status, showRun(ok)).toBe(0);
    const r = JSON.parse(ok.stdout) as { model: string; batch: number; kernels: { name: string }[] };
    expect(r.model).toBe('mlp');
    expect(r.batch).toBe(8);
    expect(r.kernels.length).toBeGreaterThan(0);
    const text = await kiln('profile', 'examples/mlp.ts', '--runs', '2');
    expect(text.stdout).toMatch(/Kernels \(slowest first\)/);
    const bad = await kiln('profile', 'examples/mlp.ts', '--batch', '0');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--batch must be a positive integer/);
    const noOut = await kiln('profile', 'examples/mlp.ts', '--format', 'html');
    expect(noOut.status).not.toBe(0);
    expect(noOut.stderr).toMatch(/--format html writes a file: give it with --out/);
  });
});
