// Learning rates in fit: the check every rate passes, and the schedules (until runtime/schedules.ts takes them).

/** Learning rate as a function of progress, or one of the two classic decays. */
export type Schedule =
  | { kind: 'exponential'; rate: number; steps: number; staircase?: boolean }
  | { kind: 'step'; gamma: number; epochs: number }
  | ((progress: { epoch: number; step: number; baseLr: number }) => number);

/**
 * Throws unless `lr` is a finite number ≥ 0: a NaN, an infinity or a string would turn every
 * weight into NaN at the next step, and a negative rate climbs the loss.
 */
export function checkLr(lr: unknown, what: string): asserts lr is number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new RangeError(`${what} must be a finite number ≥ 0, got ${typeof lr === 'string' ? JSON.stringify(lr) : String(lr)}`);
  }
}

/** The learning rate for a step under a schedule. */
export function scheduledLr(schedule: Schedule | undefined, baseLr: number, epoch: number, step: number): number {
  if (!schedule) return baseLr;
  if (typeof schedule === 'function') return schedule({ epoch, step, baseLr });
  if (schedule.kind === 'exponential') {
    const p = step / schedule.steps;
    return baseLr * schedule.rate ** (schedule.staircase ? Math.floor(p) : p);
  }
  return baseLr * schedule.gamma ** Math.floor(epoch / schedule.epochs);
}
