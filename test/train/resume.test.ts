// Resuming: a trainer's save() restores weights, optimizer state, step, epoch and the shuffle
// position, so 2 epochs + save/load + 3 epochs equal 5 epochs bit for bit — in process (also from
// a mid-epoch checkpoint) and through `kiln train --save` / `--load` as processes; createModel
// takes a trainer's save() as weights only.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpoint } from '../../runtime/train-loop.ts';
import { dense, input, model } from '../../src/index.ts';
import { freshOutDir, kiln, ROOT, showRun } from '../e2e/helpers.ts';
import { compileTrainer } from './helpers.ts';
import { copyRecord, uniformArray, weightRecord, type FullTrainer, type TrainerOptions } from './trainer-support.ts';

/** x[3] → dense(4, relu) → dense(2), MSE, Adam (its moments and step count must survive too). */
async function twoLayer() {
  const x = input([3], { name: 'x' });
  const h = dense(x, 4, { name: 'h', activation: 'relu' });
  const y = dense(h, 2, { name: 'out' });
  const mod = (await compileTrainer('resume', model({ name: 'resume_mlp', inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'adam', lr: 0.01 } })) as unknown as {
    createTrainer(o?: TrainerOptions): FullTrainer;
    createModel(weights: Uint8Array): { predict(x: Float32Array, batch: number): Float32Array };
  };
  return mod;
}
const data = { x: uniformArray(10 * 3, 61), y: uniformArray(10 * 2, 62), count: 10 };
const fitOptions = (epochs: number) => ({ epochs, batchSize: 4, seed: 5, validationData: data });

describe('resume in process', () => {
  it('2 epochs, save, a new trainer from the file, 3 more epochs: the same weights, state and logs as 5 epochs', async () => {
    const mod = await twoLayer();
    const w0 = weightRecord(mod.createTrainer({ seed: 1 }));
    const whole = mod.createTrainer({ weights: copyRecord(w0) });
    const five = whole.fit(data, fitOptions(5));
    const first = mod.createTrainer({ weights: copyRecord(w0) });
    first.fit(data, fitOptions(2));
    const resumed = mod.createTrainer({ weights: first.save() });
    expect([resumed.steps, resumed.epochs, resumed.epochBatch]).toEqual([6, 2, 0]);
    const three = resumed.fit(data, fitOptions(3));
    expect(three.epochs.map((l) => l.epoch)).toEqual([2, 3, 4]);
    expect(three.epochs.map((l) => [l.loss, l.valLoss])).toEqual(five.epochs.slice(2).map((l) => [l.loss, l.valLoss]));
    expect(Buffer.from(resumed.save())).toEqual(Buffer.from(whole.save()));
  });

  it('a checkpoint written mid-epoch resumes at its next batch', async () => {
    const mod = await twoLayer();
    const w0 = weightRecord(mod.createTrainer({ seed: 2 }));
    const whole = mod.createTrainer({ weights: copyRecord(w0) });
    whole.fit(data, fitOptions(5));
    let saved: Uint8Array | undefined;
    const cut = mod.createTrainer({ weights: copyRecord(w0) });
    // 3 batches per epoch: step 5 is the second batch of epoch 1.
    cut.fit(data, { ...fitOptions(2), callbacks: [checkpoint({ everySteps: 5, save: () => (saved ??= cut.save()) })] });
    const resumed = mod.createTrainer({ weights: saved });
    expect([resumed.steps, resumed.epochs, resumed.epochBatch]).toEqual([5, 1, 2]);
    const h = resumed.fit(data, fitOptions(4));
    expect(h.epochs.map((l) => l.epoch)).toEqual([1, 2, 3, 4]);
    expect(Buffer.from(resumed.save())).toEqual(Buffer.from(whole.save()));
  });

  it("createModel(trainer.save()) loads the weights and ignores the optimizer state", async () => {
    const mod = await twoLayer();
    const t = mod.createTrainer({ seed: 3 });
    t.fit(data, fitOptions(2));
    const m = mod.createModel(t.save());
    expect(Array.from(m.predict(data.x, 10))).toEqual(Array.from(t.predict(data.x, 10)));
  });
});

describe('kiln train --load', () => {
  it('2 epochs --save, then --load and 3 epochs, write the same trainer state as 5 epochs, byte for byte; --history and --curves are written', async () => {
    const dir = freshOutDir('resume-cli');
    const rel = (f: string) => path.relative(ROOT, path.join(dir, f));
    const common = ['train', 'examples/mlp256.ts', '--data', 'mnist', '--limit', '192', '--batch-size', '32', '--seed', '4', '--validation', '64'];
    const [two, five] = await Promise.all([
      kiln(...common, '--epochs', '2', '--out', rel('a'), '--save', rel('two.bin')),
      kiln(...common, '--epochs', '5', '--out', rel('b'), '--save', rel('five.bin')),
    ]);
    expect(two.status, showRun(two)).toBe(0);
    expect(five.status, showRun(five)).toBe(0);
    const three = await kiln(...common, '--epochs', '3', '--load', rel('two.bin'), '--out', rel('c'), '--save', rel('resumed.bin'), '--history', rel('h.json'), '--curves', rel('c.png'));
    expect(three.status, showRun(three)).toBe(0);
    expect(three.stdout).toContain('resuming from');
    expect(three.stdout).toMatch(/^epoch 3\/5: /m);
    expect(three.stdout).toMatch(/^epoch 5\/5: /m);
    expect(readFileSync(path.join(dir, 'resumed.bin')).equals(readFileSync(path.join(dir, 'five.bin')))).toBe(true);
    const history = JSON.parse(readFileSync(path.join(dir, 'h.json'), 'utf8')) as { epochs: { epoch: number; loss: number; metrics: { accuracy: number }; valLoss: number }[] };
    expect(history.epochs.map((e) => e.epoch)).toEqual([2, 3, 4]);
    for (const e of history.epochs) {
      expect(e.metrics.accuracy).toBeGreaterThanOrEqual(0);
      expect(e.valLoss).toBeTypeOf('number');
    }
    expect([...readFileSync(path.join(dir, 'c.png')).subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    const missing = await kiln(...common, '--load', rel('nothing.bin'), '--out', rel('d'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/--load .*nothing\.bin: cannot read the trainer state \(ENOENT\)/);
  }, 240_000);
});
