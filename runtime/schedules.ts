// Learning-rate schedules for emitted trainers' fit loops: pure functions of progress (the
// 0-based epoch and the 0-based optimizer step of the batch about to run), as PyTorch documents them.

/**
 * A learning rate as a function of progress. Granularity: `step` and `cosine` with per 'epoch'
 * change at epoch boundaries, as a PyTorch loop calling scheduler.step() once per epoch;
 * `exponential`, `warmup` and `cosine` with per 'step' change at every optimizer step.
 */
export type Schedule =
  /** Keras's ExponentialDecay: lr·rate^(step/steps), the exponent floored with staircase. */
  | { kind: 'exponential'; rate: number; steps: number; staircase?: boolean }
  /** torch.optim.lr_scheduler.StepLR: lr·gamma^⌊epoch/epochs⌋ (epochs = step_size; 1 gives ExponentialLR). */
  | { kind: 'step'; gamma: number; epochs: number }
  /** CosineAnnealingLR: η_min + (lr − η_min)·(1 + cos(π·T_cur/T_max))/2, T_cur the epoch (default) or the step. */
  | { kind: 'cosine'; tMax: number; etaMin?: number; per?: 'epoch' | 'step' }
  /**
   * Linear warm-up (LinearLR to factor 1, then SequentialLR): lr·(s + (1 − s)·step/steps) for the
   * first `steps` steps (s = startFactor, PyTorch's default 1/3), then `then` with its step count
   * restarted at 0 (its epochs are not shifted), or lr itself.
   */
  | { kind: 'warmup'; steps: number; startFactor?: number; then?: Schedule }
  | ((progress: { epoch: number; step: number; baseLr: number }) => number);

/** The learning rate for a step under a schedule. */
export function scheduledLr(schedule: Schedule | undefined, baseLr: number, epoch: number, step: number): number {
  if (!schedule) return baseLr;
  if (typeof schedule === 'function') return schedule({ epoch, step, baseLr });
  switch (schedule.kind) {
    case 'exponential': {
      const p = step / schedule.steps;
      return baseLr * schedule.rate ** (schedule.staircase ? Math.floor(p) : p);
    }
    case 'step':
      return baseLr * schedule.gamma ** Math.floor(epoch / schedule.epochs);
    case 'cosine': {
      const etaMin = schedule.etaMin ?? 0;
      const t = schedule.per === 'step' ? step : epoch;
      return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * t) / schedule.tMax))) / 2;
    }
    case 'warmup': {
      if (step >= schedule.steps) return scheduledLr(schedule.then, baseLr, epoch, step - schedule.steps);
      const s = schedule.startFactor ?? 1 / 3;
      return baseLr * (s + ((1 - s) * step) / schedule.steps);
    }
    default:
      throw new RangeError(`unknown learning-rate schedule ${JSON.stringify((schedule as { kind: unknown }).kind)} (exponential, step, cosine, warmup, or a function)`);
  }
}

/** Throws a RangeError naming the first bad field of `schedule` (walks nested warm-ups in a loop). */
export function checkSchedule(schedule: Schedule | undefined): void {
  for (let s = schedule; s !== undefined && typeof s !== 'function'; s = s.kind === 'warmup' ? s.then : undefined) {
    const positive = (what: string, v: unknown, integer = false) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
        throw new RangeError(`${s!.kind} schedule: ${what} must be a ${integer ? 'positive integer' : 'finite number > 0'}, got ${String(v)}`);
      }
    };
    switch (s.kind) {
      case 'exponential':
        positive('rate', s.rate);
        positive('steps', s.steps);
        break;
      case 'step':
        positive('gamma', s.gamma);
        positive('epochs', s.epochs, true);
        break;
      case 'cosine':
        positive('tMax', s.tMax);
        if (s.etaMin !== undefined && !(Number.isFinite(s.etaMin) && s.etaMin >= 0)) throw new RangeError(`cosine schedule: etaMin must be a finite number ≥ 0, got ${String(s.etaMin)}`);
        if (s.per !== undefined && s.per !== 'epoch' && s.per !== 'step') throw new RangeError(`cosine schedule: per must be 'epoch' or 'step', got ${JSON.stringify(s.per)}`);
        break;
      case 'warmup':
        positive('steps', s.steps, true);
        if (s.startFactor !== undefined && !(s.startFactor >= 0 && s.startFactor <= 1)) throw new RangeError(`warmup schedule: startFactor must lie in [0, 1], got ${String(s.startFactor)}`);
        break;
      default:
        throw new RangeError(`unknown learning-rate schedule ${JSON.stringify((s as { kind: unknown }).kind)} (exponential, step, cosine, warmup, or a function)`);
    }
  }
}
