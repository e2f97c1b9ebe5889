// Learning-rate schedules for emitted trainers' fit loops: pure functions of progress, no state.
/** Learning rate as a function of progress, or one of the two classic decays. */
export type Schedule =
  | { kind: 'exponential'; rate: number; steps: number; staircase?: boolean }
  | { kind: 'step'; gamma: number; epochs: number }
  | ((progress: { epoch: number; step: number; baseLr: number }) => number);

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
