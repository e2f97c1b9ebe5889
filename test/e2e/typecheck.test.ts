// The emitted TypeScript of training modules, for both backends, type-checks under strict tsc
// together with a consumer that uses their trainers (the inference modules are checked in
// compile.test.ts).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileCommand } from '../../cli/commands.ts';
import { freshOutDir, ROOT } from './helpers.ts';

describe('emitted training modules', () => {
  it('type-check with tsc (strict, NodeNext): JS backend with a ThreadPool, GPU.js backend', async () => {
    const out = freshOutDir('typecheck');
    await compileCommand(path.join(ROOT, 'examples/cnn-small.ts'), { backend: 'js', out: path.join(out, 'js'), seed: 0, train: true });
    await compileCommand(path.join(ROOT, 'examples/cnn-small.ts'), { backend: 'gpujs', out: path.join(out, 'gpu'), seed: 0, train: true });
    writeFileSync(
      path.join(out, 'consumer.ts'),
      [
        `import * as js from './js/cnn_small.js';`,
        `import * as gpu from './gpu/cnn_small.js';`,
        `import { ThreadPool } from 'kiln/runtime/node';`,
        `const pool = new ThreadPool();`,
        `const x = new Float32Array(784);`,
        `const y = new Int32Array(1);`,
        `const a: js.Trainer = js.createTrainer({ seed: 1, pool });`,
        `const loss: number = a.step(x, y, 1);`,
        `const b = gpu.createTrainer({ mode: 'cpu', lr: 0.01 });`,
        `const mode: 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu' = b.backend;`,
        `const saved: Uint8Array = b.save();`,
        `const m: gpu.Model = gpu.createModel(undefined, { mode: 'webasm', maxBatch: 128 });`,
        `const probs: Float32Array = m.predict(x, 1);`,
        `export { loss, mode, saved, probs };`,
      ].join('\n') + '\n',
    );
    const tsconfig = {
      compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: true, noEmit: true, types: ['node'] },
      files: ['js/cnn_small.ts', 'gpu/cnn_small.ts', 'consumer.ts'],
    };
    writeFileSync(path.join(out, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    try {
      output = execFileSync(process.execPath, [tsc, '-p', path.join(out, 'tsconfig.json')], { cwd: out, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      const err = e as { stdout: string; stderr: string };
      output = `${err.stdout}${err.stderr}`;
    }
    expect(output).toBe('');
  }, 120_000);
});
