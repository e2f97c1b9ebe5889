// What describes an optimizer (OptimizerSpec, the one type the CLI and the API share), which
// settings each kind takes, their PyTorch defaults, and the check that rejects bad settings.
import { KilnError } from '../../src/ir/errors.ts';

/** Gradient clipping, applied to all gradients before any optimizer's update (Keras puts it on the optimizer too). */
export interface ClipSettings {
  /** torch.nn.utils.clip_grad_norm_: scale every gradient by min(1, clipNorm / (‖g‖₂ over all of them + 1e-6)). */
  clipNorm?: number;
  /** torch.nn.utils.clip_grad_value_: clamp every gradient element to [-clipValue, clipValue] (after clipNorm if both). */
  clipValue?: number;
}

/** One optimizer and its settings; absent settings take PyTorch's defaults (OPTIMIZER_DEFAULTS). */
export type OptimizerSpec = ClipSettings &
  (
    | { kind: 'sgd'; lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number }
    | { kind: 'adam' | 'adamw'; lr: number; beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number; amsgrad?: boolean }
    | { kind: 'rmsprop'; lr: number; alpha?: number; epsilon?: number; momentum?: number; centered?: boolean; weightDecay?: number }
    | { kind: 'adagrad'; lr: number; epsilon?: number; weightDecay?: number; lrDecay?: number; initialAccumulatorValue?: number }
  );

export type OptimizerKind = OptimizerSpec['kind'];
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'];

type Setting = 'momentum' | 'dampening' | 'nesterov' | 'weightDecay' | 'beta1' | 'beta2' | 'epsilon' | 'amsgrad' | 'alpha' | 'centered' | 'lrDecay' | 'initialAccumulatorValue';

/** Each kind's settings with PyTorch's default values (torch.optim, 2.x): the only place defaults live. */
export const OPTIMIZER_DEFAULTS: Readonly<Record<OptimizerKind, Readonly<Partial<Record<Setting, number | boolean>>>>> = {
  sgd: { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
  adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, amsgrad: false },
  // torch.optim.AdamW decays by 0.01 by default (Adam by 0).
  adamw: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, amsgrad: false },
  rmsprop: { alpha: 0.99, epsilon: 1e-8, momentum: 0, centered: false, weightDecay: 0 },
  adagrad: { epsilon: 1e-10, weightDecay: 0, lrDecay: 0, initialAccumulatorValue: 0 },
};

/** A numeric setting's allowed range, as PyTorch's constructors check it. */
const RANGES: Readonly<Record<string, { min: number; max?: number; maxOpen?: boolean; what: string }>> = {
  lr: { min: 0, what: 'a finite number ≥ 0' },
  momentum: { min: 0, what: 'a finite number ≥ 0' },
  dampening: { min: 0, max: 1, what: 'a number in [0, 1]' },
  weightDecay: { min: 0, what: 'a finite number ≥ 0' },
  beta1: { min: 0, max: 1, maxOpen: true, what: 'a number in [0, 1)' },
  beta2: { min: 0, max: 1, maxOpen: true, what: 'a number in [0, 1)' },
  epsilon: { min: 0, what: 'a finite number ≥ 0' },
  alpha: { min: 0, what: 'a finite number ≥ 0' },
  lrDecay: { min: 0, what: 'a finite number ≥ 0' },
  initialAccumulatorValue: { min: 0, what: 'a finite number ≥ 0' },
  clipNorm: { min: 0, what: 'a finite number > 0' },
  clipValue: { min: 0, what: 'a finite number > 0' },
};
const BOOLEANS = new Set(['nesterov', 'amsgrad', 'centered']);
const CLIPS = new Set(['clipNorm', 'clipValue']);

/** The settings `kind` takes (besides lr and clipping), for messages and the CLI. */
export const settingsOf = (kind: OptimizerKind): readonly string[] => Object.keys(OPTIMIZER_DEFAULTS[kind]);

/** Throws unless `value` is allowed for numeric setting `key`. */
function checkNumber(kind: string, key: string, value: unknown, name: (key: string) => string): void {
  const r = RANGES[key];
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= r.min && (r.max === undefined || (r.maxOpen ? value < r.max : value <= r.max)) && (!CLIPS.has(key) || value > 0);
  if (!ok) throw new KilnError(`${kind}: ${name(key)} must be ${r.what}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
}

/**
 * Throws a KilnError naming the first problem of `spec`: an unknown kind, a setting the kind
 * does not take, a value out of range, nesterov without momentum or with dampening (as torch.optim.SGD).
 * `name` spells a setting in messages (the CLI passes its flags).
 */
export function checkOptimizer(spec: OptimizerSpec, name: (key: string) => string = (key) => key): void {
  const kind = (spec as { kind: unknown }).kind;
  if (typeof kind !== 'string' || !(OPTIMIZER_KINDS as readonly string[]).includes(kind)) {
    throw new KilnError(`unknown optimizer ${JSON.stringify(kind)} (expected one of ${OPTIMIZER_KINDS.join(', ')})`);
  }
  const k = kind as OptimizerKind;
  const takes = settingsOf(k);
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'kind' || value === undefined) continue;
    if (key !== 'lr' && !CLIPS.has(key) && !takes.includes(key)) {
      throw new KilnError(`${name(key)} does not apply to ${k} (it takes ${['lr', ...takes, 'clipNorm', 'clipValue'].map(name).join(', ')})`);
    }
    if (BOOLEANS.has(key)) {
      if (typeof value !== 'boolean') throw new KilnError(`${k}: ${name(key)} must be true or false, got ${String(value)}`);
    } else checkNumber(k, key, value, name);
  }
  if (spec.kind === 'sgd' && spec.nesterov && (!(spec.momentum ?? 0) || (spec.dampening ?? 0) !== 0)) {
    throw new KilnError(`sgd: ${name('nesterov')} needs a ${name('momentum')} > 0 and zero ${name('dampening')} (as torch.optim.SGD)`);
  }
}

/** `spec` with every setting its kind takes filled in from the defaults (clipping stays optional). */
export function withDefaults<S extends OptimizerSpec>(spec: S): Required<Omit<S, keyof ClipSettings>> {
  const given = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));
  return { ...OPTIMIZER_DEFAULTS[spec.kind], ...given } as Required<Omit<S, keyof ClipSettings>>;
}
