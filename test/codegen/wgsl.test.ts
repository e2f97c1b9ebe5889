// The WGSL renderer without a GPU: which kernels it takes (the contractions of the examples'
// inference and training programs, nothing else), the shape of what it emits (bindings declared
// as listed, workgroup sizes and memory within WebGPU's defaults, balanced brackets, literals
// only as WGSL spells them), dispatch sizes, and that names from a model never become code.
// Whether the sources compile and compute the right numbers is test/browser/wgsl.test.ts's part.
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../compiler/lower/kernel.ts';
import { dispatchSize, renderWgslKernel, wgslListing, type WgslKernel } from '../../compiler/codegen/wgsl/kernel.ts';
import { f32Literal } from '../../compiler/codegen/wgsl/alu.ts';
import { overrideSource, wgslOverrideSource } from '../../compiler/codegen/wgsl/override.ts';
import { emitGpuJsModule } from '../../compiler/emit/gpujs/module.ts';
import { loadModel } from '../../cli/load.ts';
import { makeNode } from '../../src/ir/build.ts';
import * as E from '../../src/ir/expr.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { BATCH } from '../../src/ir/shape.ts';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compileCommand, irCommand } from '../../cli/commands.ts';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { buildTrainingGraph } from '../../compiler/train/step.ts';
import { freshOutDir } from '../e2e/helpers.ts';
import { denseKernel, exampleKernels, ROOT, weightGradKernel } from '../browser/wgsl-kernels.ts';

const CONTRACTION_ANCHORS = new Set(['matmul', 'conv2d', 'conv2dBackwardFilter']);

/** Structural checks of one rendered kernel; returns the problems found. */
function problems(w: WgslKernel): string[] {
  const found: string[] = [];
  for (const [i, p] of w.passes.entries()) {
    const at = `${w.name} pass ${i + 1}`;
    const code = p.source
      .split('\n')
      .map((l) => l.replace(/\/\/.*$/, ''))
      .join('\n');
    for (const [open, close] of [['(', ')'], ['{', '}'], ['[', ']']]) {
      if (code.split(open).length !== code.split(close).length) found.push(`${at}: unbalanced ${open}${close}`);
    }
    const declared = [...code.matchAll(/@binding\((\d+)i\)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    const listed = p.bindings.map((b) => b.binding).sort((a, b) => a - b);
    if (JSON.stringify(declared) !== JSON.stringify(listed)) found.push(`${at}: declares bindings ${declared}, lists ${listed}`);
    if (new Set(listed).size !== listed.length) found.push(`${at}: a binding listed twice`);
    for (const m of code.matchAll(/\bin(\d+)\[/g)) if (!p.bindings.some((b) => b.kind === 'input' && b.slot === Number(m[1]))) found.push(`${at}: reads in${m[1]} unbound`);
    const size = /@workgroup_size\((\d+)i, (\d+)i, (\d+)i\)/.exec(code);
    if (!size || [1, 2, 3].map((j) => Number(size[j])).join() !== p.workgroupSize.join()) found.push(`${at}: workgroup size ${size?.[0]} vs ${p.workgroupSize}`);
    if (p.workgroupSize[0] * p.workgroupSize[1] * p.workgroupSize[2] > 256) found.push(`${at}: more than 256 invocations`);
    const shared = [...code.matchAll(/var<workgroup> \w+: array<f32, (\d+)i>/g)].reduce((s, m) => s + 4 * Number(m[1]), 0);
    if (shared > 16384) found.push(`${at}: ${shared} bytes of workgroup memory`);
    // WGSL has neither JavaScript's spellings of non-finite numbers nor its keywords.
    if (/\b(NaN|Infinity|const |function|Math\.)/.test(code)) found.push(`${at}: JavaScript spelling in WGSL`);
    // Every numeric literal is suffixed (i, u, f) or part of a float with a decimal point.
    for (const m of code.matchAll(/(?<![\w.])(\d+)(?![\w.\d])/g)) found.push(`${at}: unsuffixed integer ${m[1]}`);
    if (!/fn main\(/.test(code)) found.push(`${at}: no entry point`);
  }
  return found;
}

describe('WGSL renderer: which kernels it takes', () => {
  it.each(['mlp', 'cnn', 'lenet', 'cnn2', 'cifar-cnn'])('%s: every product and convolution of inference and training, and nothing else', async (name) => {
    const { inference, training } = await exampleKernels(name);
    const all = [...inference, ...training];
    const taken = all.filter((k) => renderWgslKernel(k));
    // Every taken kernel is anchored on a contraction; every matmul / unpadded convolution is taken.
    expect(taken.map((k) => k.ops[0]).filter((op) => !CONTRACTION_ANCHORS.has(op))).toEqual([]);
    const missed = all.filter((k) => CONTRACTION_ANCHORS.has(k.ops[0]) && !taken.includes(k) && !k.recomputes.length && !hasSelect(k));
    expect(missed.map((k) => `${k.name} ${k.ops.join('→')}`)).toEqual([]);
    expect(taken.length).toBeGreaterThanOrEqual(name === 'mlp' ? 11 : 7);
    for (const k of taken) {
      for (const workgroupTiles of [true, false]) expect(problems(renderWgslKernel(k, { workgroupTiles })!), k.name).toEqual([]);
      // Registers only: no workgroup memory, no barrier.
      expect(renderWgslKernel(k)!.passes[0].source).not.toMatch(/var<workgroup>|workgroupBarrier/);
    }
  });

  it('declines reductions that are not sums of products, and elementwise kernels', () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: [BATCH, 7] });
    const graph = { name: 'g', inputs: [x], outputs: [{ name: 'y', node: makeNode('exp', [makeNode('reduceMax', [x], { axes: [1], keepdims: true })]) }, { name: 'z', node: makeNode('relu', [x]) }] } as unknown as Graph;
    for (const k of compileGraph(graph).program.kernels) expect(renderWgslKernel(k), k.ops.join('→')).toBeUndefined();
  });
});

const hasSelect = (k: Kernel) => {
  let found = false;
  E.walk(k.expr, (e) => (found ||= e.k === 'select'));
  return found;
};

describe('WGSL renderer: passes, split-K and dispatch', () => {
  it('a dense layer: one pass without split-K; two with it (sums, then the epilogue)', () => {
    const k = denseKernel(784, 64);
    const off = renderWgslKernel(k, { splitK: 1 })!;
    expect(off.passes.length).toBe(1);
    expect(off.scratch).toBeUndefined();
    expect(off.passes[0].bindings.map((b) => b.kind)).toEqual(['params', 'out', 'input', 'input', 'input']);
    // 64×64 tiles: batch 130 → 3 row tiles, 64 columns → 1.
    expect(dispatchSize(off.passes[0], 130)).toEqual([1, 3, 1]);
    const on = renderWgslKernel(k, { splitK: 4 })!;
    expect(on.passes.length).toBe(2);
    expect(on.scratch).toEqual({ splits: 4, elements: { factor: 64, batch: true } });
    expect(dispatchSize(on.passes[0], 130)).toEqual([1, 3, 4]);
    // The finishing pass: one thread per output element, 64 per workgroup, in 16 rows of workgroups.
    expect(dispatchSize(on.passes[1], 130)).toEqual([Math.ceil((130 * 64) / (64 * 16)), 16, 1]);
    // cifar-cnn's 8192 × 1024 weight gradient split: 8,388,608 outputs stay under 65,535 workgroups an axis.
    expect(dispatchSize(renderWgslKernel(weightGradKernel(8192, 1024), { splitK: 3 })!.passes[1], 3)).toEqual([8192, 16, 1]);
    expect(on.passes[0].bindings.map((b) => b.kind)).toEqual(['params', 'input', 'input', 'scratch']);
    expect(on.passes[1].bindings.map((b) => b.kind)).toEqual(['params', 'out', 'input', 'scratch']);
    for (const w of [off, on]) expect(problems(w)).toEqual([]);
  });

  it('split-K by default only for long reductions over few tiles; on demand for a weight gradient', () => {
    const w = renderWgslKernel(weightGradKernel(784, 64))!;
    expect(w.how).toMatch(/K = N \(/);
    expect(w.scratch).toBeUndefined(); // K = batch: at the assumed batch of 32, too short to split
    // cnn-small's head: 1 tile at batch 32, K = 5408: min(32 slices, 64 tiles wanted, ⌊5408/256⌋ = 21).
    expect(renderWgslKernel(denseKernel(5408, 10))!.scratch?.splits).toBe(21);
    const conv = renderWgslKernel(weightGradKernel(7, 9), { tileM: 8, tileN: 8, tileK: 4, perThreadM: 2, perThreadN: 2, splitK: 3, workgroupTiles: true })!;
    expect(conv.passes[0].source).toMatch(/var<workgroup> tileA: array<f32, 32i>;/);
    expect(conv.passes[0].workgroupSize).toEqual([4, 4, 1]);
    expect(problems(conv)).toEqual([]);
  });

  it('a tile that is not a whole number of threads is an internal error', () => {
    expect(() => renderWgslKernel(denseKernel(8, 8), { tileM: 10, perThreadM: 4 })).toThrow(/internal: WGSL tile/);
    expect(() => renderWgslKernel(denseKernel(8, 8), { tileM: 128, tileN: 128, perThreadM: 4, perThreadN: 4 })).toThrow(/at most 256/);
  });

  it('kiln ir --stage wgsl lists the shaders and names the kernels left out', async () => {
    const text = await irCommand(path.join(ROOT, 'examples', 'cnn.ts'), 'wgsl');
    // cnn: transpose, conv → bias → relu, max pool, dense (split-K), dense, then softmax's three kernels.
    expect(text).toMatch(/^\/\/ ---- k1 pass 1 of 1: workgroups/m);
    expect(text).toMatch(/^\/\/ ---- k3 pass 2 of 2/m);
    expect(text.match(/@compute/g)?.length).toBe(4);
    expect(text).toMatch(/\/\/ Not rendered as WGSL: k0, k2, k5, k6, k7, k8$/);
  });

  it('the listing names every pass and its workgroup counts', () => {
    const text = wgslListing(renderWgslKernel(denseKernel(784, 64), { splitK: 2 })!);
    expect(text).toMatch(/pass 1 of 2: workgroups ⌈64\/64⌉ × ⌈N\/64⌉ × 2·⌈1\/1⌉/);
    expect(text).toMatch(/pass 2 of 2/);
  });
});

describe('WGSL renderer: literals and names', () => {
  it('f32 literals: exact text with a suffix; non-finite ones and overflow as bit patterns', () => {
    expect(f32Literal(0.5)).toBe('0.5f');
    expect(f32Literal(-2)).toBe('(-2f)');
    expect(f32Literal(1e-7)).toBe('1e-7f');
    expect(f32Literal(Infinity)).toBe('bitcast<f32>(0x7f800000u)');
    expect(f32Literal(-1e39)).toBe('bitcast<f32>(0xff800000u)');
    expect(f32Literal(NaN)).toBe('bitcast<f32>(0x7fc00000u)');
    expect(f32Literal(3.4028234663852886e38)).toBe('3.4028234663852886e+38f');
  });

  it('a hostile layer name stays inside one comment line', () => {
    const hostile = 'x */ }\n@compute fn evil() { }\r\u2028 //';
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: [BATCH, 5] });
    const w = makeNode('input', [], { name: 'w', dtype: 'float32', shape: [5, 3] });
    const y = makeNode('matmul', [x, w], { transA: false, transB: false }, { layer: hostile });
    const graph = { name: 'g', inputs: [x, w], outputs: [{ name: 'y', node: y }] } as unknown as Graph;
    const k = compileGraph(graph).program.kernels.at(-1)!;
    const source = renderWgslKernel(k)!.passes[0].source;
    for (const line of source.split('\n').filter((l) => l.includes('evil'))) expect(line.startsWith('//'), line).toBe(true);
    expect(source.split('\n').filter((l) => l.includes('evil')).length).toBe(1);
    expect(problems(renderWgslKernel(k)!)).toEqual([]);
  });

  it('a loop variable that is not an identifier never becomes code', () => {
    const k = denseKernel(6, 3);
    const bad = E.mapExpr(k.expr, (e) => (e.k === 'var' && e.name === 'k0' ? E.v('k0; }') : e.k === 'reduce' ? { ...e, vars: e.vars.map((r) => ({ ...r, name: 'k0; }' })) } : e));
    expect(bad).not.toEqual(k.expr);
    expect(() => renderWgslKernel({ ...k, expr: bad })).toThrow(/internal/);
  });
});

describe('WGSL renderer: the override for the GPU.js module seam', () => {
  /** A stand-in WebGPU device that records what an override asks of it. */
  function recordingDevice() {
    const log: { shaders: string[]; pipelines: number; dispatches: number[][]; bindings: number[][]; submits: number; buffers: number[] } = { shaders: [], pipelines: 0, dispatches: [], bindings: [], submits: 0, buffers: [] };
    const device: Record<string, any> = {
      createShaderModule: ({ code }: { code: string }) => (log.shaders.push(code), { code }),
      createComputePipeline: () => (log.pipelines++, { getBindGroupLayout: () => ({}) }),
      createBuffer: ({ size }: { size: number }) => (log.buffers.push(size), { size, destroy() {} }),
      createBindGroup: ({ entries }: { entries: { binding: number }[] }) => (log.bindings.push(entries.map((e) => e.binding)), {}),
      createCommandEncoder: () => ({
        beginComputePass: () => ({ setPipeline() {}, setBindGroup() {}, dispatchWorkgroups: (...xyz: number[]) => log.dispatches.push(xyz), end() {} }),
        finish: () => ({}),
      }),
      queue: { writeBuffer() {}, submit: () => log.submits++ },
    };
    return { device, log };
  }

  it('encodes every pass with its shader, bindings and workgroup counts; pipelines made once per device', () => {
    const k = denseKernel(784, 64);
    const w = renderWgslKernel(k, { splitK: 4 })!;
    const override = new Function(`return ${overrideSource(w)}`)() as (d: unknown, b: number, i: unknown[], o: unknown) => void;
    const { device, log } = recordingDevice();
    const buffer = { size: 4, destroy() {} };
    override(device, 130, [buffer, buffer, buffer], buffer);
    expect(log.shaders).toEqual(w.passes.map((p) => p.source));
    expect(log.dispatches).toEqual([[1, 3, 4], [9, 16, 1]]);
    expect(log.bindings).toEqual(w.passes.map((p) => p.bindings.map((b) => b.binding)));
    // The parameter block, and a scratch buffer of 4 slices × 130 × 64 floats.
    expect(log.buffers).toEqual([16, 4 * 130 * 64 * 4]);
    expect(log.submits).toBe(1);
    override(device, 130, [buffer, buffer, buffer], buffer);
    expect(log.pipelines).toBe(2);
    expect(log.buffers.length).toBe(2);
    override(device, 7, [buffer, buffer, buffer], buffer);
    expect(log.dispatches.at(-2)).toEqual([1, 1, 4]);
    expect(log.buffers.length).toBe(4);
  });

  it('emitGpuJsModule with the hook fills wgslKernels with the kernels the renderer takes', async () => {
    const { graph } = await loadModel(path.join(ROOT, 'examples', 'mlp256.ts'));
    const program = compileGraph(graph).program;
    const js = emitGpuJsModule(program, { graphHash: 'wgsl-hook' } as never, wgslOverrideSource()).js;
    const table = js.slice(js.indexOf('export const wgslKernels'));
    // By default each entry holds both shaders, the runtime choosing by adapter: registers only
    // first (CPU adapters), workgroup tiles second (GPUs).
    const entry = (name: string) => {
      const start = table.indexOf(`${name}: byAdapter(`);
      expect(start, name).toBeGreaterThan(0);
      return table.slice(start, table.indexOf('\n  ),', start));
    };
    for (const name of ['k0', 'k1']) {
      const [software, hardware] = entry(name).split('// On a GPU');
      expect(software, name).toMatch(/\(device, batch, inputs, output\) =>/);
      expect(software, name).toContain('registers only');
      expect(software, name).not.toMatch(/var<workgroup>/);
      expect(hardware, name).toMatch(/\(device, batch, inputs, output\) =>/);
      expect(hardware, name).toMatch(/var<workgroup>/);
    }
    expect(table).not.toMatch(/k2: /);
    expect(js).toMatch(/import \{[^}]*\bbyAdapter\b[^}]*\} from "kiln\/runtime\/gpujs"/);
    // A fixed shader gives one override per kernel and no import of the chooser.
    const fixed = emitGpuJsModule(program, { graphHash: 'wgsl-hook' } as never, wgslOverrideSource({ workgroupTiles: false })).js;
    expect(fixed.slice(fixed.indexOf('export const wgslKernels'))).toMatch(/k0: \(device, batch, inputs, output\) =>/);
    expect(fixed).not.toMatch(/byAdapter/);
  });
});

describe('emitted GPU.js modules carry Kiln WGSL', () => {
  it('kiln compile --backend gpujs --train: wgslKernels holds exactly the kernels the renderer takes (model, step, evaluation), the manifest and the doc comment name them; js modules have none', async () => {
    const out = freshOutDir('wgsl-emitted');
    const file = path.join(ROOT, 'examples', 'cnn-small.ts');
    await compileCommand(file, { backend: 'gpujs', out: path.join(out, 'gpujs'), seed: 1, train: true });
    await compileCommand(file, { backend: 'js', out: path.join(out, 'js'), seed: 1, train: true });
    const m = (await import(/* @vite-ignore */ pathToFileURL(path.join(out, 'gpujs', 'cnn_small.mjs')).href)) as { wgslKernels: Record<string, unknown>; manifest: { wgslKernels?: string[]; kernels: { name: string }[]; trainerKernels: { name: string }[] } };
    // The renderer's own choice over the three programs compileModel emits.
    const { graph } = await loadModel(file);
    const t = buildTrainingGraph(graph, { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) });
    const programs = [compileGraph(graph).program, compileGraph(t.graph, 't').program, compileGraph(t.evalGraph, 'e').program];
    const taken = programs.flatMap((p) => p.kernels.filter((k) => renderWgslKernel(k)).map((k) => k.name));
    expect(taken.some((n) => n.startsWith('k')) && taken.some((n) => n.startsWith('t')) && taken.some((n) => n.startsWith('e'))).toBe(true);
    expect(Object.keys(m.wgslKernels).sort()).toEqual([...taken].sort());
    for (const n of taken) expect(typeof m.wgslKernels[n], n).toBe('function');
    expect(m.manifest.wgslKernels).toEqual(taken);
    const all = [...m.manifest.kernels, ...m.manifest.trainerKernels].map((k) => k.name);
    const text = readFileSync(path.join(out, 'gpujs', 'cnn_small.mjs'), 'utf8');
    expect(text).toContain(`Kiln's own WGSL (compiler/codegen/wgsl, contraction kernels): ${taken.join(', ')}.`);
    expect(text).toContain(`GPU.js (every backend): ${all.filter((n) => !taken.includes(n)).join(', ')}.`);
    const js = (await import(/* @vite-ignore */ pathToFileURL(path.join(out, 'js', 'cnn_small.mjs')).href)) as { wgslKernels?: unknown; manifest: object };
    expect(js.wgslKernels).toBeUndefined();
    expect(js.manifest).not.toHaveProperty('wgslKernels');
  }, 120_000);
});
