// Start-up: a module compiled with a trainer comes with an inference-only module beside it
// (`<name>.inference.mjs`), the module the same compile writes without --train. An application
// that only predicts imports that one and never parses the training step (its kernels, its
// WebAssembly, createTrainer). Speed itself is measured by bench/startup.ts, not asserted here.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileCommand } from '../../cli/commands.ts';
import { compileModel } from '../../compiler/compile.ts';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { layers, sequential } from '../../src/index.ts';
import { freshOutDir } from '../e2e/helpers.ts';

/** Signs of training code in an emitted module's JavaScript. */
const TRAINING = [/\bcreateTrainer\b/, /\btrainerKernels\b/, /\btrainerSimdWasm\b/, /\bstateParameters\b/, /^function t\d+\(/m, /^function e\d+\(/m];

describe('the inference-only module of a compile with --train', () => {
  it('kiln compile --train writes <name>.inference.mjs and .d.mts beside the full module; without --train, only the three files', async () => {
    const out = freshOutDir('startup-inference-cli');
    const report = await compileCommand('examples/mlp.ts', { backend: 'js', out, seed: 1, train: true });
    for (const f of ['mlp.mjs', 'mlp.d.mts', 'mlp.weights.bin', 'mlp.inference.mjs', 'mlp.inference.d.mts']) {
      expect(existsSync(path.join(out, f)), f).toBe(true);
      expect(report).toContain(`wrote ${path.join(out, f)}`);
    }
    const full = readFileSync(path.join(out, 'mlp.mjs'), 'utf8');
    const inference = readFileSync(path.join(out, 'mlp.inference.mjs'), 'utf8');
    for (const sign of TRAINING) {
      expect(full, `the full module has ${sign}`).toMatch(sign);
      expect(inference, `the inference module has ${sign}`).not.toMatch(sign);
    }
    expect(inference).toMatch(/^export function createModel\(/m);
    const types = readFileSync(path.join(out, 'mlp.inference.d.mts'), 'utf8');
    expect(types).toContain('export declare function createModel(');
    expect(types).not.toContain('createTrainer');

    const plain = freshOutDir('startup-plain-cli');
    const report2 = await compileCommand('examples/mlp.ts', { backend: 'js', out: plain, seed: 1 });
    expect(report2).not.toContain('.inference.');
    expect(existsSync(path.join(plain, 'mlp.inference.mjs'))).toBe(false);
    // It is that module: a compile without --train writes the same JavaScript.
    expect(readFileSync(path.join(plain, 'mlp.mjs'), 'utf8')).toBe(inference);
  });

  it('predicts in a fresh Node process as the reference computes, reading the weight file the compile wrote', () => {
    // y = x·W + b with W = [[1, 2], [3, 4]] ([in, out]), b = [0.5, -1]: for x = [1, -1], y = [1 - 3 + 0.5, 2 - 4 - 1] = [-1.5, -3].
    const graph = sequential({ name: 'affine', input: [2] }, [layers.dense(2)]).graph;
    const [w, b] = compileModel(graph).program.params.map((p) => String(p.attrs.name));
    const c = compileModel(graph, {
      initialWeights: { [w]: Float32Array.of(1, 2, 3, 4), [b]: Float32Array.of(0.5, -1) },
      training: { loss: resolveLoss(graph, 'mse'), optimizer: resolveOptimizer('sgd', 0.1) },
      inferenceModule: true,
    });
    expect(c.inference, 'an inference-only module').toBeDefined();
    const dir = freshOutDir('startup-inference-run');
    writeFileSync(path.join(dir, 'affine.inference.mjs'), c.inference!.js);
    writeFileSync(path.join(dir, 'affine.weights.bin'), c.weights);
    const script = [
      `import { readFileSync } from 'node:fs';`,
      `const m = await import('./affine.inference.mjs');`,
      `const y = m.createModel(readFileSync('affine.weights.bin')).predict(Float32Array.of(1, -1), 1);`,
      `console.log(JSON.stringify({ y: Array.from(y), exports: Object.keys(m).sort() }));`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { y, exports } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { y: number[]; exports: string[] };
    expect(y).toEqual([-1.5, -3]);
    expect(exports).toContain('createModel');
    expect(exports).not.toContain('createTrainer');
  });

  it('with --standalone, the inference module is standalone too: it imports nothing', () => {
    const graph = sequential({ name: 'affine', input: [2] }, [layers.dense(2)]).graph;
    const c = compileModel(graph, { standalone: true, inferenceModule: true, training: { loss: resolveLoss(graph, 'mse'), optimizer: resolveOptimizer('sgd', 0.1) } });
    expect(c.inference!.js.match(/^\s*import\b.*|\bimport\(|\brequire\(/gm) ?? []).toEqual([]);
    expect(c.inference!.js).toMatch(/^export \{[^}]*\bcreateModel\b/m);
    expect(c.inference!.js).not.toMatch(/\bcreateTrainer\b/);
  });

  it('a compile without a trainer has no inference module (it is one already), nor one with a trainer that did not ask', () => {
    const graph = sequential({ name: 'affine', input: [2] }, [layers.dense(2)]).graph;
    expect(compileModel(graph, { inferenceModule: true }).inference).toBeUndefined();
    const training = { loss: resolveLoss(graph, 'mse'), optimizer: resolveOptimizer('sgd', 0.1) };
    expect(compileModel(graph, { training }).inference).toBeUndefined();
  });
});
