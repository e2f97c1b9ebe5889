// Learning-rate schedules (runtime/schedules.ts) at chosen epochs and steps, against
// PyTorch's documented formulas worked out here by hand (StepLR, ExponentialLR, CosineAnnealingLR,
// LinearLR + SequentialLR) and Keras's ExponentialDecay.
import { describe, expect, it } from 'vitest';
import { checkSchedule, scheduledLr, type Schedule } from '../../runtime/schedules.ts';

const at = (s: Schedule, epoch: number, step: number, lr = 0.1) => scheduledLr(s, lr, epoch, step);

describe('learning-rate schedules', () => {
  it('none: the base rate', () => {
    expect(scheduledLr(undefined, 0.3, 7, 900)).toBe(0.3);
  });

  it('step (StepLR, step_size 2, gamma 0.5): halves every second epoch, whatever the step', () => {
    const s: Schedule = { kind: 'step', gamma: 0.5, epochs: 2 };
    expect([0, 1, 2, 3, 4, 7].map((e) => at(s, e, 1000 * e))).toBeAllclose([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125], { rtol: 1e-12 });
  });

  it('step with epochs 1 is ExponentialLR: lr·γ^epoch', () => {
    const s: Schedule = { kind: 'step', gamma: 0.9, epochs: 1 };
    expect([0, 1, 3].map((e) => at(s, e, 0))).toBeAllclose([0.1, 0.09, 0.0729], { rtol: 1e-12 });
  });

  it('exponential (Keras ExponentialDecay, rate 0.5 per 10 steps): smooth and staircase', () => {
    expect([0, 5, 10, 20].map((t) => at({ kind: 'exponential', rate: 0.5, steps: 10 }, 0, t))).toBeAllclose([0.1, 0.1 / Math.SQRT2, 0.05, 0.025], { rtol: 1e-12 });
    expect([0, 5, 10, 19].map((t) => at({ kind: 'exponential', rate: 0.5, steps: 10, staircase: true }, 0, t))).toBeAllclose([0.1, 0.1, 0.05, 0.05], { rtol: 1e-12 });
  });

  it('cosine (CosineAnnealingLR, T_max 10, η_min 0.001) per epoch', () => {
    const s: Schedule = { kind: 'cosine', tMax: 10, etaMin: 0.001 };
    // T_cur 0 → lr; T_cur = T_max/2 → midway (cos = 0); T_cur = T_max → η_min; T_cur 2: cos(π/5) = (1 + √5)/4
    const cos36 = (1 + Math.sqrt(5)) / 4;
    expect([0, 5, 10, 2].map((e) => at(s, e, 12345))).toBeAllclose([0.1, 0.0505, 0.001, 0.001 + (0.099 * (1 + cos36)) / 2], { rtol: 1e-12 });
  });

  it('cosine per step, η_min 0 by default', () => {
    const s: Schedule = { kind: 'cosine', tMax: 100, per: 'step' };
    expect([0, 50, 100, 25].map((t) => at(s, 9, t))).toBeAllclose([0.1, 0.05, 0, 0.05 * (1 + Math.SQRT1_2)], { rtol: 1e-12, atol: 1e-15 });
  });

  it('warm-up (LinearLR from start factor 0.25 over 4 steps), then the base rate', () => {
    const s: Schedule = { kind: 'warmup', steps: 4, startFactor: 0.25 };
    // lr·(0.25 + 0.75·t/4): 0.025, 0.04375, 0.0625, 0.08125, then 0.1
    expect([0, 1, 2, 3, 4, 50].map((t) => at(s, 0, t))).toBeAllclose([0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1], { rtol: 1e-12 });
  });

  it("warm-up's default start factor is PyTorch LinearLR's 1/3", () => {
    expect(at({ kind: 'warmup', steps: 3 }, 0, 0)).toBeCloseTo(0.1 / 3, 14);
    expect(at({ kind: 'warmup', steps: 3 }, 0, 1)).toBeCloseTo(0.1 * (1 / 3 + 2 / 9), 14);
  });

  it('warm-up then cosine per step: the cosine starts at the end of the warm-up (SequentialLR)', () => {
    const s: Schedule = { kind: 'warmup', steps: 10, startFactor: 0, then: { kind: 'cosine', tMax: 20, per: 'step' } };
    expect([0, 5, 10, 20, 30].map((t) => at(s, 0, t))).toBeAllclose([0, 0.05, 0.1, 0.05, 0], { rtol: 1e-12, atol: 1e-15 });
  });

  it('warm-up then step decay: the epochs are not shifted', () => {
    const s: Schedule = { kind: 'warmup', steps: 2, startFactor: 0.5, then: { kind: 'step', gamma: 0.1, epochs: 1 } };
    expect([at(s, 0, 0), at(s, 0, 1), at(s, 0, 2), at(s, 1, 3)]).toBeAllclose([0.05, 0.075, 0.1, 0.01], { rtol: 1e-12 });
  });

  it('a function gets the progress and the base rate', () => {
    expect(scheduledLr(({ epoch, step, baseLr }) => baseLr * 10 + epoch + step / 1000, 0.1, 2, 500)).toBeCloseTo(3.5, 12);
  });

  it('bad settings are one-line errors naming the field', () => {
    expect(() => checkSchedule({ kind: 'cosine', tMax: 0 })).toThrow('cosine schedule: tMax must be a finite number > 0, got 0');
    expect(() => checkSchedule({ kind: 'step', gamma: 0.5, epochs: 1.5 })).toThrow('step schedule: epochs must be a positive integer, got 1.5');
    expect(() => checkSchedule({ kind: 'warmup', steps: 5, then: { kind: 'cosine', tMax: 10, etaMin: -1 } })).toThrow('cosine schedule: etaMin must be a finite number ≥ 0, got -1');
    expect(() => checkSchedule({ kind: 'warmup', steps: 5, startFactor: 2 })).toThrow('warmup schedule: startFactor must lie in [0, 1], got 2');
    expect(() => checkSchedule({ kind: 'onecycle' } as unknown as Schedule)).toThrow('unknown learning-rate schedule "onecycle"');
    expect(() => checkSchedule({ kind: 'warmup', steps: 3, then: { kind: 'step', gamma: 0.5, epochs: 2 } })).not.toThrow();
  });
});
