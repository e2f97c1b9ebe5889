// kiln train as a process: --json reports why a fit stopped (`stopped`), and early stopping's own
// count travels in --save's file, so --load continues it: 2 epochs + 4 resumed stop at the epoch,
// and write the same state byte for byte, as one unbroken run of 6.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshOutDir, kiln, ROOT, showRun } from '../e2e/helpers.ts';

describe('kiln train --early-stop across --save/--load', () => {
  it('--json says stopped {epoch, reason}; the resumed run stops where the unbroken one does', async () => {
    const dir = freshOutDir('fit-resume-cli');
    const rel = (f: string) => path.relative(ROOT, path.join(dir, f));
    // No change of the loss beats min-delta 100: epoch 1 sets the best, patience 2 stops after epoch 3.
    const common = ['train', 'examples/mlp256.ts', '--data', 'mnist', '--limit', '96', '--batch-size', '32', '--seed', '6', '--lr', '0.01', '--early-stop', '2', '--monitor', 'loss', '--min-delta', '100', '--json'];
    const [whole, head] = await Promise.all([
      kiln(...common, '--epochs', '6', '--out', rel('a'), '--save', rel('whole.bin')),
      kiln(...common, '--epochs', '2', '--out', rel('b'), '--save', rel('two.bin')),
    ]);
    expect(whole.status, showRun(whole)).toBe(0);
    expect(head.status, showRun(head)).toBe(0);
    const w = JSON.parse(whole.stdout);
    expect(w.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([0, 1, 2]);
    expect(w.stopped.epoch).toBe(2);
    expect(w.stopped.reason).toMatch(/^early stopping: loss did not improve for 2 epochs/);
    expect(JSON.parse(head.stdout).stopped).toBeUndefined();

    const tail = await kiln(...common, '--epochs', '4', '--load', rel('two.bin'), '--out', rel('c'), '--save', rel('tail.bin'));
    expect(tail.status, showRun(tail)).toBe(0);
    const t = JSON.parse(tail.stdout);
    // Without the saved count the resumed run would set a new best at epoch 3 and run all 4.
    expect(t.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([2]);
    expect(t.stopped).toEqual(w.stopped);
    expect(Buffer.from(readFileSync(path.join(dir, 'tail.bin')))).toEqual(Buffer.from(readFileSync(path.join(dir, 'whole.bin'))));
  }, 240_000);
});
