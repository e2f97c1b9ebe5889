// createModel('<name>.weights.bin') in an emitted module, as an application runs it: a fresh Node
// process on the built package (kiln/runtime → dist/runtime/bundle). The path reads the weights
// straight into the model's WebAssembly memory; the file's tensors (decodeWeights, the reference)
// are what the model holds, it predicts exactly as given the bytes, a corrupt file is refused in
// one line naming it, and a trainer resumes from a save()'s path.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { compileModel } from '../../compiler/compile.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { freshOutDir, loadExampleGraph } from '../e2e/helpers.ts';

/** Runs an ES module script in `dir` in a fresh Node; returns its last line of output as JSON. */
function runScript(dir: string, lines: string[]): { status: number | null; out: unknown; stderr: string } {
  const file = path.join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, lines.join('\n'));
  const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, out: last ? JSON.parse(last) : undefined, stderr: r.stderr };
}

describe('createModel from a weight file path (built package, fresh process)', async () => {
  const graph = await loadExampleGraph('cnn-small');
  const c = compileModel(graph, { seed: 5, training: { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) }, inferenceModule: true });
  const dir = freshOutDir('weights-path');
  writeFileSync(path.join(dir, 'm.mjs'), c.js);
  writeFileSync(path.join(dir, 'm.inference.mjs'), c.inference!.js);
  writeFileSync(path.join(dir, 'm.weights.bin'), c.weights);
  const bad = c.weights.slice();
  bad[bad.length - 100] ^= 0x40;
  writeFileSync(path.join(dir, 'bad.weights.bin'), bad);

  it('holds the tensors of the file, in its WebAssembly memory, and predicts as given the bytes', () => {
    const r = runScript(dir, [
      `import { readFileSync } from 'node:fs';`,
      `const m = await import('./m.inference.mjs');`,
      `const byPath = m.createModel('m.weights.bin');`,
      `const byBytes = m.createModel(readFileSync('m.weights.bin'));`,
      `const n = m.inputs[0].shape.slice(1).reduce((a, b) => a * b, 1);`,
      `const x = Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(i));`,
      `console.log(JSON.stringify({ inMemory: byPath.weightArrays.every((a) => byPath.memory.owns(a)), weights: byPath.getWeights().map((t) => [t.name, Array.from(t.data)]), path: Array.from(byPath.predict(x, 3)), bytes: Array.from(byBytes.predict(x, 3)) }));`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const out = r.out as { inMemory: boolean; weights: [string, number[]][]; path: number[]; bytes: number[] };
    expect(out.inMemory).toBe(true);
    expect(out.weights).toEqual(decodeWeights(c.weights).tensors.map((t) => [t.name, Array.from(t.data)]));
    expect(out.path).toEqual(out.bytes);
    expect(out.path.length).toBe(30);
  });

  it('refuses a corrupt file in one line that names it, and a missing one', () => {
    const r = runScript(dir, [
      `const m = await import('./m.inference.mjs');`,
      `const tryIt = (p) => { try { m.createModel(p); return 'ok'; } catch (e) { return e.name + ': ' + e.message; } };`,
      `console.log(JSON.stringify([tryIt('bad.weights.bin'), tryIt('none.weights.bin')]));`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const [corrupt, missing] = r.out as string[];
    expect(corrupt).toMatch(/^WeightFileError: bad\.weights\.bin: checksum mismatch: file is corrupt \(expected 0x[0-9a-f]{8}, got 0x[0-9a-f]{8}\)$/);
    expect(missing).toBe('FileError: cannot read weight file none.weights.bin: no such file or folder (ENOENT)');
  });

  it("resumes a trainer from a save()'s path: weights, step count and optimizer state", () => {
    const r = runScript(dir, [
      `import { writeFileSync } from 'node:fs';`,
      `const m = await import('./m.mjs');`,
      `const n = m.inputs[0].shape.slice(1).reduce((a, b) => a * b, 1);`,
      `const x = Float32Array.from({ length: 4 * n }, (_, i) => Math.cos(i));`,
      `const y = Int32Array.from({ length: 4 }, (_, i) => i % 10);`,
      `const t = m.createTrainer({ seed: 2 });`,
      `for (let i = 0; i < 3; i++) t.step(x, y, 4);`,
      `writeFileSync('saved.bin', t.save());`,
      `const u = m.createTrainer({ weights: 'saved.bin' });`,
      `const next = [t.step(x, y, 4), u.step(x, y, 4)];`,
      `console.log(JSON.stringify({ steps: [t.steps, u.steps], next }));`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const out = r.out as { steps: number[]; next: number[] };
    expect(out.steps).toEqual([4, 4]);
    // The same weights and Adam state: the fourth step's loss is bit-identical.
    expect(out.next[1]).toBe(out.next[0]);
  });
});
