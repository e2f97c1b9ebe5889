// `kiln profile` of a model with scans (examples/lstm-adding.ts: LSTM(32) over 50 steps, Dense(1)):
// every kernel, loop bodies' included, is named as the compiled module names it; a body kernel runs
// once per step; each loop's own time (its copies) is a row of its own, so the rows still add up
// to the measured call. The report's arithmetic is also checked on hand-made times.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { profileModel } from '../../cli/profile.ts';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { compileModel } from '../../compiler/compile.ts';
import { profileReport, formatProfile } from '../../compiler/inspect/profile.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { buildTrainingGraph } from '../../compiler/train/step.ts';
import { STEPS } from '../../examples/lstm-adding.ts';
import { freshOutDir, loadExampleGraph, ROOT } from '../e2e/helpers.ts';
import { nestedScan } from '../ir/scan-fixtures.ts';
import { attributionGap, closestProfile } from './profile-support.ts';

const LSTM = path.join(ROOT, 'examples', 'lstm-adding.ts');
const H = 32;
/** Features per step of lstm-adding (a value and its marker). */
const F = 2;

interface Manifest {
  kernels: { name: string; ops: string; layers: string[] }[];
  trainerKernels?: { name: string; ops: string; layers: string[] }[];
}

/** The manifest of the module `kiln compile` writes for the example (with a trainer when asked). */
async function manifestOf(training: boolean): Promise<Manifest> {
  const graph = await loadExampleGraph('lstm-adding');
  const spec = training ? { training: { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) } } : {};
  const file = path.join(freshOutDir(`profile-loops-${training}`), 'lstm.mjs');
  writeFileSync(file, compileModel(graph, spec).js);
  return ((await import(/* @vite-ignore */ pathToFileURL(file).href)) as { manifest: Manifest }).manifest;
}

describe('kiln profile of a model with a scan', () => {
  it('predict: every kernel named as the manifest names it, body kernels called once per step, a loop row, times adding up to the call', async () => {
    const runs = 4;
    const r = await closestProfile(() => profileModel(LSTM, { batch: 8, runs }));
    const manifest = await manifestOf(false);
    const kernelRows = r.kernels.filter((k) => k.steps === undefined);
    const loopRows = r.kernels.filter((k) => k.steps !== undefined);
    // Each kernel of the module once, with the manifest's ops and layers (not its neighbour's).
    expect(kernelRows.map((k) => k.name).sort()).toEqual(manifest.kernels.map((k) => k.name).sort());
    for (const k of kernelRows) {
      const m = manifest.kernels.find((x) => x.name === k.name)!;
      expect(m.ops.startsWith(k.ops.join(' → ')), `${k.name}: ${m.ops} against ${k.ops.join(' → ')}`).toBe(true);
      expect(k.layers).toEqual(m.layers);
    }
    // One loop (the LSTM's), of STEPS steps, whose body kernels run STEPS times per call.
    expect(loopRows).toHaveLength(1);
    const loop = loopRows[0];
    expect(loop.steps).toBe(STEPS);
    expect(loop.calls).toBe(runs);
    expect(loop.layers).toEqual(['lstm_1']);
    const body = kernelRows.filter((k) => k.loop === loop.name);
    expect(body.map((k) => k.name).sort()).toEqual([...loop.body!].sort());
    expect(body.length).toBeGreaterThan(0);
    for (const k of body) expect(k.calls, k.name).toBe(runs * STEPS);
    for (const k of kernelRows.filter((x) => x.loop === undefined)) expect(k.calls, k.name).toBe(runs);
    // The step's product [x_t | h]·[W; U] (+ bias) over all steps (inference sinks the input
    // projection into the step): 2·(F + H)·4H multiply-adds and 4H adds per row per step.
    const product = body.find((k) => k.ops[0] === 'matmul')!;
    expect(product.flops).toBe(STEPS * 8 * (2 * (F + H) * 4 * H + 4 * H));
    // The Dense(1) after the loop: 2·H + 1 per row (the kernel the old index matching misnamed).
    const dense = kernelRows.find((k) => k.layers.includes('dense_1'))!;
    expect(dense.ops).toEqual(['matmul', 'add']);
    expect(dense.flops).toBe(8 * (2 * H + 1));
    expect(r.kernels.every((k) => k.ms >= 0)).toBe(true);
    expect(attributionGap(r)).toBeLessThan(0.1);
    expect(formatProfile(r)).toMatch(new RegExp(`${loop.name} .* scan, ${STEPS} steps: copies between steps`));
  });

  it('--train: the step\'s kernels and its three loops (forward, and BPTT\'s two scans), body kernels once per step, times adding up', async () => {
    const runs = 2;
    const r = await closestProfile(() => profileModel(LSTM, { batch: 8, runs, train: true }));
    const graph = await loadExampleGraph('lstm-adding');
    const t = buildTrainingGraph(graph, { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) });
    const stepKernels = compileGraph(t.graph, 't').program.kernels.length;
    const manifest = await manifestOf(true);
    const kernelRows = r.kernels.filter((k) => k.steps === undefined);
    expect(kernelRows.map((k) => k.name).sort()).toEqual(manifest.trainerKernels!.slice(0, stepKernels).map((k) => k.name).sort());
    const loops = r.kernels.filter((k) => k.steps !== undefined);
    expect(loops).toHaveLength(3);
    for (const l of loops) {
      expect(l.steps).toBe(STEPS);
      for (const name of l.body!) expect(r.kernels.find((k) => k.name === name)!.calls, name).toBe(runs * STEPS);
    }
    expect(r.kernels.every((k) => Number.isFinite(k.flops))).toBe(true);
    expect(attributionGap(r)).toBeLessThan(0.1);
  });
});

describe('a profiled module with a scan nested in a body', () => {
  it("times each loop as a whole and each body kernel per step: the inner loop's kernels run steps × inner steps per call", async () => {
    const T = 3;
    const { graph } = nestedScan(T, H);
    const file = path.join(freshOutDir('profile-loops-nested'), 'nested.mjs');
    writeFileSync(file, compileModel(graph, { profile: true }).js);
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as {
      kernelTimes: Record<string, { ms: number; calls: number }>;
      createModel(): { run(feeds: Record<string, Float32Array>, batch: number): unknown };
    };
    const runs = 3;
    const model = mod.createModel();
    for (let i = 0; i < runs; i++) model.run({ h0: new Float32Array(2 * H), xs: new Float32Array(2 * T * H), z: new Float32Array(H) }, 2);
    const { program } = compileGraph(graph);
    const outerLoop = program.schedule.find((s) => s.kind === 'loop');
    if (outerLoop?.kind !== 'loop') throw new Error('expected a loop');
    const innerLoop = outerLoop.loop.body.find((s) => s.kind === 'loop');
    if (innerLoop?.kind !== 'loop') throw new Error('expected a nested loop');
    expect(mod.kernelTimes.kloop0.calls).toBe(runs);
    expect(mod.kernelTimes.kloop1.calls).toBe(runs * T);
    for (const s of outerLoop.loop.body) if (s.kind === 'kernel') expect(mod.kernelTimes[s.kernel.name].calls, s.kernel.name).toBe(runs * T);
    for (const s of innerLoop.loop.body) if (s.kind === 'kernel') expect(mod.kernelTimes[s.kernel.name].calls, s.kernel.name).toBe(runs * T * 2);
    const r = profileReport({ model: 'nested', backend: 'js', batch: 2, runs, train: false, callMs: 0 }, [{ entry: 'model', program }], mod.kernelTimes);
    expect(r.kernels.filter((k) => k.steps !== undefined).map((k) => [k.name, k.steps, k.loop])).toEqual([['kloop0', T, undefined], ['kloop1', 2, 'kloop0']]);
    // Nothing counts twice: the rows add up to the outer loop's whole time.
    expect(r.kernelMs * runs).toBeCloseTo(mod.kernelTimes.kloop0.ms, 6);
  });
});

describe('profileReport on hand-made times', () => {
  it("a loop's row is its time less its body's; body kernels' ms and FLOPs are per call of the entry, over every step", async () => {
    const graph = await loadExampleGraph('lstm-adding');
    const { program } = compileGraph(graph);
    const loop = program.schedule.find((s) => s.kind === 'loop')!;
    if (loop.kind !== 'loop') throw new Error('no loop');
    const bodyNames = loop.loop.body.map((s) => (s.kind === 'kernel' ? s.kernel.name : '?'));
    const runs = 2;
    // Each top-level kernel 1 ms per run; each body kernel 0.1 ms per step; the loop 30 ms per run in all.
    const times: Record<string, { ms: number; calls: number }> = { kloop0: { ms: 60, calls: runs } };
    for (const k of program.kernels) times[k.name] = bodyNames.includes(k.name) ? { ms: 0.1 * STEPS * runs, calls: STEPS * runs } : { ms: runs, calls: runs };
    const r = profileReport({ model: 'm', backend: 'js', batch: 8, runs, train: false, callMs: 0 }, [{ entry: 'model', program }], times);
    const row = (name: string) => r.kernels.find((k) => k.name === name)!;
    const top = program.kernels.length - bodyNames.length;
    expect(row('kloop0').ms).toBeCloseTo(30 - 0.1 * STEPS * bodyNames.length, 9);
    for (const name of bodyNames) expect(row(name).ms).toBeCloseTo(0.1 * STEPS, 9);
    expect(r.kernelMs).toBeCloseTo(top * 1 + 30, 9);
    // Rows in execution order: the loop's row right before its body's.
    const names = r.kernels.map((k) => k.name);
    expect(names.slice(names.indexOf('kloop0'), names.indexOf('kloop0') + 1 + bodyNames.length)).toEqual(['kloop0', ...bodyNames]);
    const product = r.kernels.find((k) => k.loop === 'kloop0' && k.ops[0] === 'matmul')!;
    expect(product.flops).toBe(STEPS * 8 * (2 * (F + H) * 4 * H + 4 * H));
    expect(product.gflops).toBeCloseTo(product.flops / (0.1 * STEPS) / 1e6, 9);
  });
});
