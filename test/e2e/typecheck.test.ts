// Emitted training modules type-check, for both backends: their TypeScript source under strict
// tsc (the inference modules' are checked in compile.test.ts), and the declaration files that
// `kiln compile` writes beside the JavaScript (`<name>.d.mts`, plain and --standalone) from an ESM
// and a CommonJS consumer under the strictest settings a consumer may choose, with the
// declarations themselves checked (no skipLibCheck).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileCommand } from '../../cli/commands.ts';
import { compileModel } from '../../compiler/compile.ts';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { freshOutDir, loadExampleGraph, ROOT } from './helpers.ts';

/** tsc's output for the project in `dir` ('' when it type-checks). */
function tsc(dir: string, tsconfig: object): string {
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const bin = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    return execFileSync(process.execPath, [bin, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    const err = e as { stdout: string; stderr: string };
    return `${err.stdout}${err.stderr}`;
  }
}

/** What a consumer project may turn on, all at once. */
const STRICT_CONSUMER = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  verbatimModuleSyntax: true,
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  skipLibCheck: false,
  noEmit: true,
  types: ['node'],
};

describe('emitted training modules', () => {
  it('their TypeScript source type-checks with tsc (strict, NodeNext): JS backend with a ThreadPool, GPU.js backend', async () => {
    const out = freshOutDir('typecheck');
    const graph = await loadExampleGraph('cnn-small');
    const training = { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) };
    for (const backend of ['js', 'gpujs'] as const) {
      mkdirSync(path.join(out, backend));
      writeFileSync(path.join(out, backend, 'cnn_small.ts'), compileModel(graph, { backend, training }).ts);
    }
    writeFileSync(
      path.join(out, 'consumer.ts'),
      [
        `import * as js from './js/cnn_small.js';`,
        `import * as gpu from './gpujs/cnn_small.js';`,
        `import { ThreadPool } from 'kiln/runtime/node';`,
        `const pool = new ThreadPool();`,
        `const x = new Float32Array(784);`,
        `const y = new Int32Array(1);`,
        `const a: js.Trainer = js.createTrainer({ seed: 1, pool });`,
        `const loss: number = a.step(x, y, 1);`,
        `const b = gpu.createTrainer({ mode: 'cpu', lr: 0.01 });`,
        `const mode: 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu' | 'webgpu' = b.backend;`,
        `const saved: Uint8Array = b.save();`,
        `const m: gpu.Model = gpu.createModel(undefined, { mode: 'webasm', maxBatch: 128 });`,
        `const probs: Float32Array = m.predict(x, 1);`,
        `export { loss, mode, saved, probs };`,
      ].join('\n') + '\n',
    );
    const tsconfig = {
      compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: true, noEmit: true, types: ['node'] },
      files: ['js/cnn_small.ts', 'gpujs/cnn_small.ts', 'consumer.ts'],
    };
    expect(tsc(out, tsconfig)).toBe('');
  }, 120_000);

  it("their declarations (.d.mts, plain and --standalone) type-check under a strict consumer's settings, from ESM and CommonJS", async () => {
    const out = freshOutDir('typecheck-declarations');
    const example = path.join(ROOT, 'examples/cnn-small.ts');
    await compileCommand(example, { backend: 'js', out: path.join(out, 'js'), seed: 0, train: true });
    await compileCommand(example, { backend: 'gpujs', out: path.join(out, 'gpujs'), seed: 0, train: true });
    await compileCommand(example, { backend: 'js', out: path.join(out, 'standalone'), seed: 0, train: true, standalone: true });
    const esm = [
      `import { createModel, createTrainer, inputs, parameters, type Model, type Trainer, type TensorInfo } from './js/cnn_small.mjs';`,
      `import * as gpu from './gpujs/cnn_small.mjs';`,
      `import * as standalone from './standalone/cnn_small.mjs';`,
      `import { ThreadPool } from 'kiln/runtime/node';`,
      `const pool = new ThreadPool();`,
      `const x = new Float32Array(784);`,
      `const y = new Int32Array(1);`,
      `const first: TensorInfo | undefined = inputs[0];`,
      `const count: number = parameters.length;`,
      `const a: Trainer = createTrainer({ seed: 1, pool });`,
      `const loss: number = a.step(x, y, 1);`,
      `const m: Model = createModel(undefined, { simd: false });`,
      `const probs: Float32Array = m.predict(x, 1);`,
      `const b = gpu.createTrainer({ mode: 'cpu', lr: 0.01 });`,
      `const mode: 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu' | 'webgpu' = b.backend;`,
      `const g: gpu.Model = gpu.createModel(undefined, { mode: 'webasm', maxBatch: 128 });`,
      `const s: standalone.Trainer = standalone.createTrainer({ seed: 2, lr: 0.1 });`,
      `const sp: Float32Array = standalone.createModel(s.save()).predict(x, 1);`,
      `const shape: readonly (number | 'N')[] | undefined = standalone.outputs[0]?.shape;`,
      `export { first, count, loss, probs, mode, g, sp, shape };`,
    ];
    writeFileSync(path.join(out, 'consumer.mts'), esm.join('\n') + '\n');
    // A CommonJS file requires the ES modules (TypeScript 5.8+ with nodenext; Node 20.19+ runs it).
    const cjs = [
      `import model = require('./js/cnn_small.mjs');`,
      `import standalone = require('./standalone/cnn_small.mjs');`,
      `const out: Float32Array = model.createModel().predict(new Float32Array(784), 1);`,
      `const loss: number = standalone.createTrainer().step(new Float32Array(784), new Int32Array(1), 1);`,
      `export = { out, loss };`,
    ];
    writeFileSync(path.join(out, 'consumer.cts'), cjs.join('\n') + '\n');
    const files = ['consumer.mts', 'consumer.cts'];
    expect(tsc(out, { compilerOptions: STRICT_CONSUMER, files })).toBe('');

    // The types are real: a wrong option, a wrong input and a missing export are each an error.
    writeFileSync(
      path.join(out, 'wrong.mts'),
      [
        `import { createModel } from './js/cnn_small.mjs';`,
        `import * as standalone from './standalone/cnn_small.mjs';`,
        `createModel(undefined, { seed: 'one' });`,
        `standalone.createModel().predict(new Int32Array(784), 1);`,
        `standalone.createSomething();`,
      ].join('\n') + '\n',
    );
    const errors = tsc(out, { compilerOptions: STRICT_CONSUMER, files: ['wrong.mts'] });
    expect(errors).toMatch(/wrong\.mts\(3,\d+\): error TS2322/);
    expect(errors).toMatch(/wrong\.mts\(4,\d+\): error TS2345/);
    expect(errors).toMatch(/wrong\.mts\(5,\d+\): error TS2339/);
  }, 180_000);
});
