// `kiln compile --train`: the emitted module gains createTrainer, whose step learns.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileCommand } from '../../cli/commands.ts';
import { KilnError } from '../../src/ir/errors.ts';

const out = path.resolve('test/.out/compile-train');

describe('kiln compile --train', () => {
  it('emits createTrainer with the chosen optimizer; repeated steps on one batch lower its loss', async () => {
    const report = await compileCommand('examples/mlp.ts', { backend: 'js', out, seed: 3, train: true, optimizer: 'sgd', lr: 0.1, momentum: 0.9 });
    expect(report).toContain('mlp.mjs');
    const types = readFileSync(path.join(out, 'mlp.d.mts'), 'utf8');
    expect(types).toContain('export declare function createTrainer(');
    const mod = await import(pathToFileURL(path.join(out, 'mlp.mjs')).href);
    const trainer = mod.createTrainer({ seed: 3 });
    expect(trainer.lr).toBe(0.1);
    const x = Float32Array.from({ length: 8 * 784 }, (_, i) => ((i * 7919) % 255) / 255);
    const y = Int32Array.from({ length: 8 }, (_, i) => i % 10);
    const first = trainer.step(x, y, 8);
    let last = first;
    for (let i = 0; i < 20; i++) last = trainer.step(x, y, 8);
    expect(Number.isFinite(first)).toBe(true);
    expect(last).toBeLessThan(first / 2);
  });

  it('rejects an optimizer option that does not apply', async () => {
    await expect(compileCommand('examples/mlp.ts', { backend: 'js', out, seed: 0, train: true, optimizer: 'adam', momentum: 0.9 })).rejects.toThrow(KilnError);
  });
});
