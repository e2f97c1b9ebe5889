// fit's callbacks: early stopping, reduce-on-plateau and checkpoints follow the rules Keras
// documents (checked on hand-made logs), and in a real fit; stopping keeps the history; a
// SampleSource trains as the in-memory data does.
import { describe, expect, it } from 'vitest';
import { checkpoint, earlyStopping, reduceLrOnPlateau, type CheckpointEvent, type EpochLog, type FitControl, type LoopTrainer } from '../../runtime/train-loop.ts';
import type { SampleSource } from '../../runtime/sample-source.ts';
import { dense, input, model } from '../../src/index.ts';
import { copyRecord, trainerFactory, uniformArray, weightRecord } from './trainer-support.ts';

/** Logs whose valLoss takes the given values. */
const logs = (valLosses: number[]): EpochLog[] => valLosses.map((v, epoch) => ({ epoch, loss: 1, metrics: {}, valLoss: v, lr: 0.1, seconds: 1, samplesPerSecond: 1 }));

/** A control over a fake trainer whose weights are the epoch number, recording what is done to it. */
function fakeControl() {
  const done = { stopped: undefined as string | undefined, restored: undefined as number | undefined, epoch: 0 };
  const trainer = {
    getWeights: () => [{ name: 'w', data: Float32Array.of(done.epoch) }],
    setWeights: (w: Record<string, Float32Array>) => (done.restored = w.w[0]),
    steps: 0,
  } as unknown as LoopTrainer;
  const control: FitControl = { trainer, baseLr: 1, history: { epochs: [] }, stop: (reason) => (done.stopped ??= reason) };
  return { control, done };
}

/** Feeds logs to a callback until it stops; returns the epoch it stopped at. */
function drive(cb: { onEpochEnd?(l: EpochLog, c: FitControl): void }, values: number[], c = fakeControl()) {
  for (const log of logs(values)) {
    c.done.epoch = log.epoch;
    cb.onEpochEnd!(log, c.control);
    if (c.done.stopped) return { at: log.epoch, ...c };
  }
  return { at: undefined, ...c };
}

/** x[3] → dense(1), MSE, SGD. */
async function linear() {
  const x = input([3], { name: 'x' });
  const y = dense(x, 1, { name: 'fc' });
  return trainerFactory('fit-callbacks', model({ name: 'fit_callbacks', inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.05 } });
}
const data = { x: uniformArray(10 * 3, 51), y: uniformArray(10, 52), count: 10 };

describe('callbacks (rules)', () => {
  it('early stopping waits `patience` epochs without an improvement larger than minDelta, then restores the best weights', () => {
    // Best 0.9 at epoch 1; epochs 2 and 3 do not improve: with patience 2 it stops after epoch 3.
    const r = drive(earlyStopping({ patience: 2, restoreBestWeights: true }), [1, 0.9, 0.95, 0.92, 0.5]);
    expect(r.at).toBe(3);
    expect(r.done.restored).toBe(1);
    expect(r.done.stopped).toMatch(/valLoss did not improve for 2 epochs \(best 0.9 at epoch 2\)/);
    // 0.89 is better than 0.9 by less than minDelta 0.05: not an improvement.
    expect(drive(earlyStopping({ patience: 1, minDelta: 0.05 }), [1, 0.9, 0.89]).at).toBe(2);
    expect(drive(earlyStopping({ patience: 1, minDelta: 0.05 }), [1, 0.9, 0.84]).at).toBeUndefined();
    // Accuracies are maximised (mode auto); patience 0 stops at the first epoch that is no better.
    const acc = (v: number[]) => v.map((a, epoch) => ({ ...logs([1])[0], epoch, valMetrics: { accuracy: a } }));
    const es = earlyStopping({ monitor: 'valAccuracy' });
    const c = fakeControl();
    for (const l of acc([0.5, 0.6, 0.6])) es.onEpochEnd!(l, c.control);
    expect(c.done.stopped).toMatch(/valAccuracy did not improve for 1 epoch/);
    expect(() => earlyStopping({ monitor: 'valMae' }).onEpochEnd!(logs([1])[0], fakeControl().control)).toThrow(/has no 'valMae'/);
  });

  it('reduce-on-plateau multiplies the rate by factor after `patience` flat epochs, not below minLr, with cooldown', () => {
    const cb = reduceLrOnPlateau({ factor: 0.5, patience: 2, minLr: 0.3 });
    const c = fakeControl();
    const rates = logs([1, 1, 1, 1, 1, 1]).map((l) => (cb.onEpochEnd!(l, c.control), c.control.baseLr));
    expect(rates).toEqual([1, 1, 0.5, 0.5, 0.3, 0.3]);
    const cool = reduceLrOnPlateau({ factor: 0.5, patience: 1, cooldown: 2 });
    const c2 = fakeControl();
    // Keras's order: the cooldown counter drops at the start of each epoch's check, so a cooldown
    // of 2 after the reduction at epoch 1 blocks epoch 2 only (traced by hand through its on_epoch_end).
    expect(logs([1, 1, 1, 1, 1]).map((l) => (cool.onEpochEnd!(l, c2.control), c2.control.baseLr))).toEqual([1, 0.5, 0.5, 0.25, 0.25]);
  });

  it('checkpoint: every N steps, every N epochs, and on each new best', () => {
    const events: CheckpointEvent[] = [];
    const cb = checkpoint({ everySteps: 2, everyEpochs: 2, best: { monitor: 'valLoss' }, save: (e) => events.push(e) });
    const c = fakeControl();
    const t = c.control.trainer as { steps: number };
    for (let s = 1; s <= 5; s++) {
      t.steps = s;
      cb.onBatchEnd!({ epoch: 0, batch: s - 1, batches: 5, loss: 1 }, c.control);
    }
    logs([0.5, 0.7, 0.4]).forEach((l) => cb.onEpochEnd!(l, c.control));
    expect(events.map((e) => `${e.kind}:${e.kind === 'steps' ? e.step : e.epoch}`)).toEqual(['steps:2', 'steps:4', 'best:1', 'epoch:2', 'best:3']);
  });
});

describe('callbacks in fit', () => {
  it('early stopping ends the fit and keeps the history; restoreBestWeights puts back the best epoch', async () => {
    const create = await linear();
    const snapshots: Record<string, Float32Array>[] = [];
    const t = create({ seed: 2 });
    // mode max on a falling loss: epoch 0 stays the best, the fit stops after epoch 1.
    const h = t.fit(data, { epochs: 6, batchSize: 4, seed: 1, callbacks: [earlyStopping({ monitor: 'loss', mode: 'max', patience: 1, restoreBestWeights: true })], onEpoch: () => void snapshots.push(weightRecord(t)) });
    expect(h.epochs.map((l) => l.epoch)).toEqual([0, 1]);
    expect(h.stopped?.epoch).toBe(1);
    expect(h.stopped?.reason).toMatch(/^early stopping: loss did not improve/);
    expect(weightRecord(t)).toEqual(snapshots[0]);
    expect(t.steps).toBe(6);
  });

  it('a throwing onEpoch stops the fit: the history so far comes back with the error', async () => {
    const create = await linear();
    const t = create({ seed: 2 });
    const boom = new Error('enough');
    const h = t.fit(data, { epochs: 5, batchSize: 4, onEpoch: (l) => { if (l.epoch === 1) throw boom; } });
    expect(h.epochs).toHaveLength(2);
    expect(h.stopped).toEqual({ epoch: 1, reason: 'enough', error: boom });
  });

  it('reduce-on-plateau lowers the rate the next epoch runs at, and the reduction outlives the fit', async () => {
    const create = await linear();
    const t = create({ seed: 2, lr: 0.05 });
    const h = t.fit(data, { epochs: 3, batchSize: 4, callbacks: [reduceLrOnPlateau({ monitor: 'loss', mode: 'max', factor: 0.5, patience: 1 })] });
    expect(h.epochs.map((l) => l.lr)).toEqual([0.05, 0.05, 0.025]);
    expect(t.lr).toBe(0.0125);
  });

  it('a SampleSource trains to the same weights, bit for bit, as the same samples in memory', async () => {
    const create = await linear();
    const w0 = weightRecord(create({ seed: 3 }));
    const [a, b] = [create({ weights: copyRecord(w0) }), create({ weights: copyRecord(w0) })];
    let reads = 0;
    const source: SampleSource = {
      count: 10,
      labels: 'float32',
      read(indices, x, y) {
        reads++;
        indices.forEach((s, j) => {
          x.set(data.x.subarray(s * 3, s * 3 + 3), j * 3);
          y[j] = data.y[s];
        });
      },
    };
    const ha = a.fit(data, { epochs: 2, batchSize: 4, seed: 8, validationData: data });
    const hb = b.fit(source, { epochs: 2, batchSize: 4, seed: 8, validationData: source });
    expect(weightRecord(b)).toEqual(weightRecord(a));
    expect(hb.epochs.map((l) => [l.loss, l.valLoss])).toEqual(ha.epochs.map((l) => [l.loss, l.valLoss]));
    expect(reads).toBe(2 * 3 + 2 * 3); // 3 training batches and 3 validation batches (of batchSize) per epoch
    expect(() => b.fit({ ...source, labels: 'int32' }, { epochs: 1, batchSize: 4 })).toThrow(/model's labels are float32, the source gives int32/);
  });
});

describe('callbacks that return a Promise', () => {
  const later = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  it('fitAsync waits for a checkpoint save before the next step (no step runs while it is pending)', async () => {
    const t = (await linear())({ seed: 3 });
    const seen: [number, number][] = [];
    const save = async () => {
      const at = t.steps;
      await later(5);
      seen.push([at, t.steps]);
    };
    // 10 samples, batch 2: 5 steps an epoch; a save every 2 steps.
    await t.fitAsync(data, { epochs: 2, batchSize: 2, callbacks: [checkpoint({ everySteps: 2, save })] });
    expect(seen).toEqual([[2, 2], [4, 4], [6, 6], [8, 8], [10, 10]]);
  });

  it("a checkpoint's periodic and best saves in one epoch run one after the other", async () => {
    const t = (await linear())({ seed: 3 });
    const order: string[] = [];
    const save = async (e: CheckpointEvent) => {
      order.push(`start ${e.kind} ${e.epoch}`);
      await later(3);
      order.push(`end ${e.kind} ${e.epoch}`);
    };
    await t.fitAsync(data, { epochs: 1, batchSize: 5, callbacks: [checkpoint({ everyEpochs: 1, best: { monitor: 'loss' }, save })] });
    expect(order).toEqual(['start epoch 1', 'end epoch 1', 'start best 1', 'end best 1']);
  });

  it('fit() refuses a Promise it cannot wait for, in one line; a rejected save ends fitAsync with its error and restores the rate', async () => {
    const t = (await linear())({ seed: 3 });
    const asyncSave = checkpoint({ everySteps: 1, save: () => later(1) });
    expect(() => t.fit(data, { epochs: 1, batchSize: 5, callbacks: [asyncSave] })).toThrow('a callback returned a Promise, which fit() cannot wait for: use fitAsync()');
    const boom = new Error('disk full');
    const failing = checkpoint({ everySteps: 1, save: () => Promise.reject(boom) });
    await expect(t.fitAsync(data, { epochs: 1, batchSize: 5, schedule: { kind: 'exponential', rate: 0.5, steps: 1 }, callbacks: [failing] })).rejects.toBe(boom);
    expect(t.lr).toBe(0.05);
  });
});
