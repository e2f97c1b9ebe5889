// The callbacks' own state travels with save()/load(): a run of 2 epochs, saved, loaded into a new
// trainer and continued with fresh callbacks stops (early stopping) and lowers its rate
// (reduce-on-plateau) at the same epochs, with the same figures, as one unbroken run.
import { describe, expect, it } from 'vitest';
import { earlyStopping, reduceLrOnPlateau, type Callback, type EpochLog, type FitOptions, type History } from '../../runtime/train-loop.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { dense, input, model } from '../../src/index.ts';
import { trainerFactory, uniformArray } from './trainer-support.ts';

/** x[3] → dense(1), MSE, SGD. */
async function linear() {
  const x = input([3], { name: 'x' });
  const y = dense(x, 1, { name: 'fc' });
  return trainerFactory('fit-resume-callbacks', model({ name: 'fit_resume_callbacks', inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.05 } });
}
const data = { x: uniformArray(12 * 3, 61), y: uniformArray(12, 62), count: 12 };
const fitOptions = (epochs: number, callbacks: Callback[]): FitOptions => ({ epochs, batchSize: 4, seed: 5, metrics: [], callbacks });
/** The figures an unbroken and a resumed run must share (time and speed differ). */
const figures = (h: History) => ({ epochs: h.epochs.map((e: EpochLog) => ({ epoch: e.epoch, loss: e.loss, lr: e.lr })), stopped: h.stopped && { epoch: h.stopped.epoch, reason: h.stopped.reason } });

describe('callback state across save and load', () => {
  it('early stopping: 2 epochs + save/load + more stop at the epoch an unbroken run stops at', async () => {
    const create = await linear();
    // No change of the loss beats minDelta 100: epoch 0 sets the best, patience 2 stops after epoch 2.
    const stopper = () => earlyStopping({ monitor: 'loss', patience: 2, minDelta: 100 });
    const whole = create({ seed: 3 }).fit(data, fitOptions(6, [stopper()]));
    expect(whole.epochs).toHaveLength(3);
    expect(whole.stopped?.reason).toMatch(/loss did not improve for 2 epochs/);

    const first = create({ seed: 3 });
    const head = first.fit(data, fitOptions(2, [stopper()]));
    const saved = first.save();
    // The file holds the count: best at epoch 0, one epoch waited.
    expect(decodeWeights(saved).meta.callbacks).toEqual({ 'earlyStopping#0': { best: head.epochs[0].loss, bestEpoch: 0, wait: 1 } });
    const tail = create({ weights: saved }).fit(data, fitOptions(4, [stopper()]));
    expect(figures({ epochs: [...head.epochs, ...tail.epochs], stopped: tail.stopped })).toEqual(figures(whole));
  });

  it('reduce-on-plateau: the resumed run lowers the rate at the same epochs; load() on the same trainer too', async () => {
    const create = await linear();
    // Every epoch after the first is a plateau (minDelta 100); patience 1 halves the rate after each.
    const plateau = () => reduceLrOnPlateau({ monitor: 'loss', patience: 1, factor: 0.5, minDelta: 100 });
    const whole = create({ seed: 4 }).fit(data, fitOptions(5, [plateau()]));
    expect(whole.epochs.map((e) => e.lr)).toEqual([0.05, 0.05, 0.025, 0.0125, 0.00625]);

    const t = create({ seed: 4 });
    const head = t.fit(data, fitOptions(2, [plateau()]));
    const saved = t.save();
    // Go on past the save, then load it back into the same trainer: the counts are the file's.
    t.fit(data, fitOptions(1, [plateau()]));
    t.load(saved);
    const tail = t.fit(data, fitOptions(3, [plateau()]));
    expect(figures({ epochs: [...head.epochs, ...tail.epochs] })).toEqual(figures(whole));
  });
});
