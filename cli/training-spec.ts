// The training objective from command-line words: the loss for `--loss`, the optimizer for
// `--optimizer`, `--lr` and its settings' flags (shared by `compile --train`, `train` and the browser demo).
import type { LossKind, LossSpec } from '../compiler/train/losses.ts';
import { checkOptimizer, OPTIMIZER_KINDS, type OptimizerSpec } from '../compiler/train/optimizer-spec.ts';
import { checkSchedule, scheduledLr, type Schedule } from '../runtime/schedules.ts';
import { KilnError } from '../src/ir/errors.ts';
import type { Graph } from '../src/ir/graph.ts';

const LOSSES: readonly LossKind[] = ['mse', 'binaryCrossEntropy', 'categoricalCrossEntropy', 'sparseCategoricalCrossEntropy'];

/**
 * The loss for `--loss`: `auto` is sparse categorical cross-entropy, from logits unless the
 * model's output is a softmax (probabilities) or a logSoftmax (log-probabilities, which the loss
 * reads as they are when `fromLogits` is false).
 */
export function resolveLoss(graph: Graph, loss: string, fromLogits?: boolean): LossSpec {
  if (loss === 'auto') {
    const op = graph.outputs[0]?.node.op;
    return { kind: 'sparseCategoricalCrossEntropy', fromLogits: fromLogits ?? !(op === 'softmax' || op === 'logSoftmax') };
  }
  if (!(LOSSES as readonly string[]).includes(loss)) throw new KilnError(`unknown loss '${loss}' (auto, ${LOSSES.join(', ')})`);
  return { kind: loss as LossKind, fromLogits: !!fromLogits };
}

/** The optimizer settings' flags as commander parses them (`--weight-decay` → weightDecay). */
export interface OptimizerFlags {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  amsgrad?: boolean;
  alpha?: number;
  centered?: boolean;
  lrDecay?: number;
  initialAccumulator?: number;
  clipNorm?: number;
  clipValue?: number;
}

/** Flag → OptimizerSpec setting, where the names differ only by spelling (one exception). */
const SETTING_OF: Readonly<Record<keyof OptimizerFlags, string>> = {
  momentum: 'momentum',
  dampening: 'dampening',
  nesterov: 'nesterov',
  weightDecay: 'weightDecay',
  beta1: 'beta1',
  beta2: 'beta2',
  epsilon: 'epsilon',
  amsgrad: 'amsgrad',
  alpha: 'alpha',
  centered: 'centered',
  lrDecay: 'lrDecay',
  initialAccumulator: 'initialAccumulatorValue',
  clipNorm: 'clipNorm',
  clipValue: 'clipValue',
};

/** A setting's command-line spelling: initialAccumulatorValue → --initial-accumulator, weightDecay → --weight-decay. */
export function flagOf(setting: string): string {
  const flag = Object.entries(SETTING_OF).find(([, s]) => s === setting)?.[0] ?? setting;
  return `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * The optimizer for `--optimizer`, `--lr` and the settings' flags; a flag the optimizer does not
 * take, or a value out of range, is a KilnError naming the flag. `flags` may be commander's whole
 * options object: only the optimizer's flags are read. (A number there is the momentum, as before.)
 */
export function resolveOptimizer(kind: string, lr: number, flags: OptimizerFlags | number = {}): OptimizerSpec {
  if (!(OPTIMIZER_KINDS as readonly string[]).includes(kind)) throw new KilnError(`unknown optimizer '${kind}' (${OPTIMIZER_KINDS.join(', ')})`);
  if (!(lr > 0)) throw new KilnError(`--lr must be a positive number, got ${lr}`);
  const given: OptimizerFlags = typeof flags === 'number' ? { momentum: flags } : flags;
  const spec: Record<string, unknown> = { kind, lr };
  for (const [flag, setting] of Object.entries(SETTING_OF)) {
    const value = given[flag as keyof OptimizerFlags];
    if (value !== undefined) spec[setting] = value;
  }
  const result = spec as unknown as OptimizerSpec;
  checkOptimizer(result, flagOf);
  return result;
}

/** The schedule flags of `kiln train` as commander parses them. */
export interface ScheduleFlags {
  schedule?: string;
  stepSize?: number;
  gamma?: number;
  tMax?: number;
  etaMin?: number;
  warmup?: number;
  warmupStart?: number;
  epochs?: number;
}

const SCHEDULES = ['none', 'step', 'exponential', 'cosine'] as const;
/** Which --schedule each schedule flag belongs to. */
const SCHEDULE_FLAGS: readonly [keyof ScheduleFlags, string, readonly string[]][] = [
  ['stepSize', '--step-size', ['step']],
  ['gamma', '--gamma', ['step', 'exponential']],
  ['tMax', '--t-max', ['cosine']],
  ['etaMin', '--eta-min', ['cosine']],
];

/**
 * The learning-rate schedule of `--schedule` and its flags, or undefined for none:
 * step → StepLR (--step-size epochs, --gamma, default 0.1), exponential → ExponentialLR
 * (--gamma per epoch), cosine → CosineAnnealingLR per epoch (--t-max, default --epochs;
 * --eta-min, default 0); --warmup <steps> (--warmup-start, default 1/3) goes before any of them.
 */
export function resolveSchedule(o: ScheduleFlags): Schedule | undefined {
  const kind = o.schedule ?? 'none';
  if (!(SCHEDULES as readonly string[]).includes(kind)) throw new KilnError(`unknown schedule '${kind}' (${SCHEDULES.join(', ')})`);
  for (const [key, flag, kinds] of SCHEDULE_FLAGS) {
    if (o[key] !== undefined && !kinds.includes(kind)) throw new KilnError(`${flag} applies to ${kinds.map((k) => `--schedule ${k}`).join(' and ')}, not --schedule ${kind}`);
  }
  if (o.warmupStart !== undefined && o.warmup === undefined) throw new KilnError('--warmup-start applies only with --warmup <steps>');
  let schedule: Schedule | undefined;
  if (kind === 'step') {
    if (o.stepSize === undefined) throw new KilnError('--schedule step needs --step-size <epochs> (decay every that many epochs)');
    schedule = { kind: 'step', gamma: o.gamma ?? 0.1, epochs: o.stepSize };
  } else if (kind === 'exponential') {
    if (o.gamma === undefined) throw new KilnError('--schedule exponential needs --gamma <factor> (the decay per epoch)');
    schedule = { kind: 'step', gamma: o.gamma, epochs: 1 };
  } else if (kind === 'cosine') {
    schedule = { kind: 'cosine', tMax: o.tMax ?? o.epochs ?? 1, etaMin: o.etaMin ?? 0, per: 'epoch' };
  }
  if (o.warmup !== undefined) schedule = { kind: 'warmup', steps: o.warmup, startFactor: o.warmupStart ?? 1 / 3, then: schedule };
  try {
    checkSchedule(schedule);
  } catch (e) {
    throw new KilnError(`bad schedule flags: ${(e as Error).message}`);
  }
  return schedule;
}

/** `schedule` as the function form that every fit loop takes. */
export function scheduleFunction(schedule: Schedule | undefined): ((p: { epoch: number; step: number; baseLr: number }) => number) | undefined {
  return schedule && ((p) => scheduledLr(schedule, p.baseLr, p.epoch, p.step));
}
