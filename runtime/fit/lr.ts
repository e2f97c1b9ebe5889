// Learning rates in fit: the check every rate passes; the schedules live in runtime/schedules.ts.
export { checkSchedule, scheduledLr, type Schedule } from '../schedules.ts';

/**
 * Throws unless `lr` is a finite number ≥ 0: a NaN, an infinity or a string would turn every
 * weight into NaN at the next step, and a negative rate climbs the loss.
 */
export function checkLr(lr: unknown, what: string): asserts lr is number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new RangeError(`${what} must be a finite number ≥ 0, got ${typeof lr === 'string' ? JSON.stringify(lr) : String(lr)}`);
  }
}
