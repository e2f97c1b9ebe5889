// An inference-only module (`<name>.inference.mjs`, or any module compiled without a trainer)
// imports the runtime's inference entry, kiln/runtime/inference: about half of kiln/runtime, with
// no training code for Node to parse (bench/startup.md). It is the same runtime as kiln/runtime's:
// an error a model throws is an instance of the class an application imports from kiln/runtime.
// Speed is measured by bench/startup.ts, not asserted here.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { layers, sequential } from '../../src/index.ts';
import { freshOutDir } from '../e2e/helpers.ts';

/** The specifiers a module's JavaScript imports values from (type-only imports are stripped from it). */
const valueImports = (js: string): string[] => [...js.matchAll(/^import\s+\{[^}]*\}\s+from\s+["']([^"']+)["'];/gm)].map((m) => m[1]);

/** y = x·W + b with W = [[1, 2], [3, 4]] ([in, out]) and b = [0.5, -1], compiled with a trainer and its inference module. */
function affine(runtimeImport?: string) {
  const graph = sequential({ name: 'affine', input: [2] }, [layers.dense(2)]).graph;
  const [w, b] = compileModel(graph).program.params.map((p) => String(p.attrs.name));
  return compileModel(graph, {
    runtimeImport,
    initialWeights: { [w]: Float32Array.of(1, 2, 3, 4), [b]: Float32Array.of(0.5, -1) },
    training: { loss: resolveLoss(graph, 'mse'), optimizer: resolveOptimizer('sgd', 0.1) },
    inferenceModule: true,
  });
}

describe('kiln/runtime/inference', () => {
  it('is what an inference-only module imports; the module with a trainer imports kiln/runtime; a --runtime-import is kept whole', () => {
    const c = affine();
    expect(valueImports(c.inference!.js)).toEqual(['kiln/runtime/inference']);
    expect(c.inference!.dts).toContain('from "kiln/runtime/inference"');
    expect(valueImports(c.js)).toEqual(['kiln/runtime']);
    const custom = affine('./vendor/kiln-runtime.js');
    expect(valueImports(custom.inference!.js)).toEqual(['./vendor/kiln-runtime.js']);
    expect(valueImports(custom.js)).toEqual(['./vendor/kiln-runtime.js']);
  });

  it("predicts in a fresh Node process, and refuses a corrupt weight file with kiln/runtime's own WeightFileError, in one line", () => {
    const c = affine();
    const dir = freshOutDir('inference-entry-run');
    writeFileSync(path.join(dir, 'affine.inference.mjs'), c.inference!.js);
    writeFileSync(path.join(dir, 'affine.weights.bin'), c.weights);
    const corrupt = c.weights.slice();
    corrupt[corrupt.length - 9] ^= 0x40; // a bit of the last tensor's data: only the checksum sees it
    writeFileSync(path.join(dir, 'corrupt.weights.bin'), corrupt);
    const script = [
      `const m = await import('./affine.inference.mjs');`,
      `const y = Array.from(m.createModel('affine.weights.bin').predict(Float32Array.of(1, -1), 1));`,
      `let error;`,
      `try { m.createModel('corrupt.weights.bin'); } catch (e) { error = e; }`,
      // Imported after the module: an application may import kiln/runtime at any point.
      `const { WeightFileError } = await import('kiln/runtime');`,
      `console.log(JSON.stringify({ y, shared: error instanceof WeightFileError, message: String(error?.message) }));`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { y, shared, message } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { y: number[]; shared: boolean; message: string };
    // For x = [1, -1]: [1 - 3 + 0.5, 2 - 4 - 1].
    expect(y).toEqual([-1.5, -3]);
    expect(shared).toBe(true);
    expect(message).toMatch(/^corrupt\.weights\.bin: checksum mismatch: file is corrupt \(expected 0x[0-9a-f]{8}, got 0x[0-9a-f]{8}\)$/);
  });
});
