// kiln train's fit flags as a user runs them: early stopping ends the run with the history kept
// (--history), reduce-on-plateau lowers the rate the history records, --checkpoint-steps writes a
// state that loads, and a bad --metrics name is one line before any training.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWeights } from '../../runtime/weights.ts';
import { freshOutDir, kiln, ROOT, showRun } from '../e2e/helpers.ts';

describe('kiln train fit flags', () => {
  it('--early-stop, --reduce-lr-on-plateau, --checkpoint-steps, --history; --metrics checked', async () => {
    const dir = freshOutDir('fit-cli');
    const rel = (f: string) => path.relative(ROOT, path.join(dir, f));
    const common = ['train', 'examples/mlp256.ts', '--data', 'mnist', '--limit', '128', '--batch-size', '32', '--seed', '2', '--lr', '0.01'];
    const [stop, plateau, bad] = await Promise.all([
      // No change of the loss is an improvement of 100: patience 1 stops after the second epoch.
      kiln(...common, '--epochs', '6', '--early-stop', '1', '--monitor', 'loss', '--min-delta', '100', '--out', rel('a'), '--history', rel('stop.json'), '--checkpoint-steps', '3', '--save', rel('state.bin')),
      // With minDelta 100 every epoch is a plateau.
      kiln(...common, '--epochs', '3', '--reduce-lr-on-plateau', '0', '--lr-factor', '0.5', '--monitor', 'loss', '--min-delta', '100', '--out', rel('b'), '--history', rel('plateau.json')),
      kiln(...common, '--metrics', 'accuracy,precision', '--out', rel('c')),
    ]);
    expect(stop.status, showRun(stop)).toBe(0);
    expect(stop.stdout).toMatch(/^stopped after epoch 2: early stopping: loss did not improve for 1 epoch/m);
    const h = JSON.parse(readFileSync(path.join(dir, 'stop.json'), 'utf8'));
    expect(h.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([0, 1]);
    expect(h.stopped.reason).toMatch(/^early stopping/);
    // 4 steps per epoch, 2 epochs: checkpoints at steps 3 and 6; the final --save holds step 8.
    expect(stop.stdout).toMatch(/^checkpoint at step 3: /m);
    expect(stop.stdout).toMatch(/^checkpoint at step 6: /m);
    expect(decodeWeights(readFileSync(path.join(dir, 'state.bin'))).meta).toMatchObject({ steps: 8, epochs: 2, epochBatch: 0 });

    expect(plateau.status, showRun(plateau)).toBe(0);
    const p = JSON.parse(readFileSync(path.join(dir, 'plateau.json'), 'utf8'));
    // Patience 0: epoch 1 sets the best, each later epoch halves the rate for the next.
    expect(p.epochs.map((e: { lr: number }) => e.lr)).toEqual([0.01, 0.01, 0.005]);

    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/unknown metric 'precision'/);
    expect(existsSync(path.join(dir, 'c', 'predictions.png'))).toBe(false);
  }, 240_000);
});
