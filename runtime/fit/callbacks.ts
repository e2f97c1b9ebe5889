// Keras-style callbacks for fit: early stopping, reduce-on-plateau and checkpoints, each a small
// state machine over the epoch logs (the same rules Keras documents). Their state is saved with
// the trainer (callback-state.ts): a resumed fit continues their counts.
import { savedNumber, type StatefulCallback } from './callback-state.ts';
import { isThenable, type EpochLog, type FitControl } from './types.ts';

export type Mode = 'min' | 'max' | 'auto';

/**
 * A log's figure by name: `loss`, `valLoss`, a training metric (`accuracy`, `mae`, …) or a
 * validation one (`valAccuracy`, `valMae`, …). Keras's snake case (`val_loss`) is accepted too.
 */
export function monitored(log: EpochLog, name: string): number | undefined {
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  if (camel === 'loss') return log.loss;
  if (camel === 'valLoss') return log.valLoss;
  if (camel.startsWith('val') && camel.length > 3) return log.valMetrics?.[camel[3].toLowerCase() + camel.slice(4)];
  return log.metrics[camel];
}

/** Accuracies grow, everything else (losses, errors) falls. */
const direction = (monitor: string, mode: Mode) => (mode !== 'auto' ? mode : /accuracy/i.test(monitor) ? 'max' : 'min');

/** A comparison "is `current` better than `best` by more than minDelta", for a monitor and mode. */
function improves(monitor: string, mode: Mode, minDelta: number): (current: number, best: number) => boolean {
  const d = Math.abs(minDelta);
  return direction(monitor, mode) === 'max' ? (c, b) => c - d > b : (c, b) => c + d < b;
}

function valueOf(log: EpochLog, monitor: string, who: string): number {
  const v = monitored(log, monitor);
  if (v === undefined) throw new RangeError(`${who}: the epoch log has no '${monitor}' (monitor loss, valLoss, a metric such as accuracy, or val<Metric> with validation data)`);
  return v;
}

export interface EarlyStoppingOptions {
  /** Default `valLoss`. */
  monitor?: string;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** Smallest change that counts as improvement (default 0). */
  minDelta?: number;
  mode?: Mode;
  /** On stopping, put back the weights of the best epoch. */
  restoreBestWeights?: boolean;
}

/** Stops when the monitored figure has not improved for `patience` epochs (Keras's EarlyStopping). */
export function earlyStopping(o: EarlyStoppingOptions = {}): StatefulCallback & { readonly bestEpoch: number | undefined } {
  const monitor = o.monitor ?? 'valLoss';
  const patience = o.patience ?? 0;
  const better = improves(monitor, o.mode ?? 'auto', o.minDelta ?? 0);
  let best: number | undefined;
  let bestEpoch: number | undefined;
  let bestWeights: Record<string, Float32Array> | undefined;
  let wait = 0;
  return {
    get bestEpoch() {
      return bestEpoch;
    },
    stateKind: 'earlyStopping',
    // The best weights are not saved (a copy of every weight): after a resume they are those of the best epoch since.
    saveState: () => ({ best: best ?? null, bestEpoch: bestEpoch ?? null, wait }),
    restoreState(state) {
      [best, bestEpoch, wait] = [savedNumber(state, 'best'), savedNumber(state, 'bestEpoch'), savedNumber(state, 'wait') ?? 0];
    },
    onEpochEnd(log, control) {
      const current = valueOf(log, monitor, 'early stopping');
      wait++;
      if (best === undefined || better(current, best)) {
        [best, bestEpoch, wait] = [current, log.epoch, 0];
        if (o.restoreBestWeights) bestWeights = weightsOf(control);
        return;
      }
      if (wait < patience) return;
      if (bestWeights) control.trainer.setWeights(bestWeights);
      const restored = bestWeights ? `; restored the weights of epoch ${bestEpoch! + 1}` : o.restoreBestWeights ? `; kept the last weights (epoch ${bestEpoch! + 1}'s came before the resume and are not saved)` : '';
      control.stop(`early stopping: ${monitor} did not improve for ${wait} epoch${wait === 1 ? '' : 's'} (best ${best} at epoch ${bestEpoch! + 1})${restored}`);
    },
  };
}

const weightsOf = (control: FitControl) => Object.fromEntries(control.trainer.getWeights().map((w) => [w.name, w.data.slice() as Float32Array]));

export interface ReduceLrOnPlateauOptions {
  /** Default `valLoss`. */
  monitor?: string;
  /** The rate is multiplied by this (default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  /** Default 1e-4, as Keras. */
  minDelta?: number;
  mode?: Mode;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The rate never goes below this (default 0). */
  minLr?: number;
}

/** Multiplies the base learning rate by `factor` when the monitored figure stalls (Keras's ReduceLROnPlateau). */
export function reduceLrOnPlateau(o: ReduceLrOnPlateauOptions = {}): StatefulCallback {
  const monitor = o.monitor ?? 'valLoss';
  const factor = o.factor ?? 0.1;
  if (!(factor > 0 && factor < 1)) throw new RangeError(`reduce-on-plateau: factor must lie in (0, 1), got ${factor}`);
  const [patience, cooldown, minLr] = [o.patience ?? 10, o.cooldown ?? 0, o.minLr ?? 0];
  const better = improves(monitor, o.mode ?? 'auto', o.minDelta ?? 1e-4);
  let best: number | undefined;
  let wait = 0;
  let cooling = 0;
  return {
    stateKind: 'reduceLrOnPlateau',
    saveState: () => ({ best: best ?? null, wait, cooling }),
    restoreState(state) {
      [best, wait, cooling] = [savedNumber(state, 'best'), savedNumber(state, 'wait') ?? 0, savedNumber(state, 'cooling') ?? 0];
    },
    onEpochEnd(log, control) {
      const current = valueOf(log, monitor, 'reduce-on-plateau');
      // Keras's order: the cooldown counts down first, and while it runs nothing waits.
      if (cooling > 0) [cooling, wait] = [cooling - 1, 0];
      if (best === undefined || better(current, best)) {
        [best, wait] = [current, 0];
        return;
      }
      if (cooling > 0) return;
      if (++wait < patience) return;
      if (control.baseLr > minLr) control.baseLr = Math.max(control.baseLr * factor, minLr);
      [wait, cooling] = [0, cooldown];
    },
  };
}

/** Why a checkpoint is written. */
export interface CheckpointEvent {
  readonly kind: 'steps' | 'epoch' | 'best';
  /** Epochs finished (for `steps`: the epoch in progress, 0-based). */
  readonly epoch: number;
  readonly step: number;
  /** The monitored figure, for `best`. */
  readonly value?: number;
}

export interface CheckpointOptions {
  /** Write after every N-th optimizer step (counted over the trainer's life). */
  everySteps?: number;
  /** Write after every N-th epoch. */
  everyEpochs?: number;
  /** Write when this figure reaches a new best (e.g. `valAccuracy`). */
  best?: { monitor: string; mode?: Mode; minDelta?: number };
  /** Writes the trainer's state (the CLI: `save()` to a file, atomically); under `fitAsync` it may return a Promise (`saveAsync`), which the fit waits for. */
  save(event: CheckpointEvent): unknown;
}

/** Runs `next` after `first`: at once if `first` is not a Promise, else when it resolves. */
const after = (first: unknown, next: () => unknown): unknown => (isThenable(first) ? first.then(next) : next());

/** Calls `save` every N steps, every N epochs and/or on a new best of a monitored figure. */
export function checkpoint(o: CheckpointOptions): StatefulCallback {
  for (const [what, n] of [['everySteps', o.everySteps], ['everyEpochs', o.everyEpochs]] as const) {
    if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw new RangeError(`checkpoint: ${what} must be a positive integer, got ${n}`);
  }
  const better = o.best ? improves(o.best.monitor, o.best.mode ?? 'auto', o.best.minDelta ?? 0) : undefined;
  let best: number | undefined;
  return {
    stateKind: 'checkpoint',
    saveState: () => ({ best: best ?? null }),
    restoreState(state) {
      best = savedNumber(state, 'best');
    },
    onBatchEnd(p, control) {
      const step = control.trainer.steps;
      if (o.everySteps && step % o.everySteps === 0) return o.save({ kind: 'steps', epoch: p.epoch, step });
    },
    onEpochEnd(log, control) {
      const step = control.trainer.steps;
      const periodic = o.everyEpochs && (log.epoch + 1) % o.everyEpochs === 0 ? o.save({ kind: 'epoch', epoch: log.epoch + 1, step }) : undefined;
      if (!o.best || !better) return periodic;
      const value = valueOf(log, o.best.monitor, 'checkpoint');
      if (best !== undefined && !better(value, best)) return periodic;
      best = value;
      return after(periodic, () => o.save({ kind: 'best', epoch: log.epoch + 1, step, value }));
    },
  };
}
