// Optimizer update rules as IR, following PyTorch's documentation; state lives in extra,
// non-trainable parameters so a trainer's save file holds it and training can resume.
import { makeNode } from '../../src/ir/build.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { Node, NodeMeta } from '../../src/ir/node.ts';
import type { OpName } from '../../src/ir/ops/index.ts';
import { OPTIMIZER_DEFAULTS, withDefaults, type ClipSettings, type OptimizerSpec } from './optimizer-spec.ts';

export { OPTIMIZER_DEFAULTS, OPTIMIZER_KINDS, checkOptimizer, type ClipSettings, type OptimizerKind, type OptimizerSpec } from './optimizer-spec.ts';

/** What an update rule reads besides the parameter and its gradient. */
export interface UpdateContext {
  /** The learning rate of this step (a run-time scalar, so schedules need no recompiling). */
  readonly lr: Node;
  /** The 1-based step count, for Adam's bias correction. */
  readonly step: Node;
  /** A zero-initialised state tensor shaped like `param`, e.g. Adam's first moment. */
  state(param: Node, role: string): Node;
}

export interface Update {
  readonly param: Node;
  /** New values of state tensors: [state node, its next value]. */
  readonly state: readonly (readonly [Node, Node])[];
}

/** One kind's spec with every setting present (defaults filled in). */
type Full<K extends OptimizerSpec['kind']> = Required<Omit<Extract<OptimizerSpec, { kind: K }>, keyof ClipSettings>>;

/** Node builders for one parameter's update, attributed to its layer. */
function builder(param: Node) {
  const meta: NodeMeta = { layer: param.meta.layer ? `${param.meta.layer}/update` : 'update', layerKind: 'Optimizer' };
  const op = (name: OpName, ...inputs: Node[]) => makeNode(name, inputs, {}, meta);
  const c = (v: number) => makeNode('const', [], { dtype: param.type.dtype, shape: [], values: [v] }, meta);
  /** a·x + b·y with literal a and b */
  const lerp = (a: number, x: Node, b: number, y: Node) => op('add', op('mul', c(a), x), op('mul', c(b), y));
  return { op, c, lerp };
}

/** 1 - βᵗ computed in float64, as PyTorch does (β = 0.999 is not exact in float32). */
function biasCorrection(beta: number, step: Node, param: Node): Node {
  const meta = { layer: param.meta.layer ? `${param.meta.layer}/update` : 'update', layerKind: 'Optimizer' };
  const c64 = (v: number) => makeNode('const', [], { dtype: 'float64', shape: [], values: [v] }, meta);
  const t = makeNode('cast', [step], { to: 'float64' }, meta);
  const power = makeNode('pow', [c64(beta), t], {}, meta);
  return makeNode('cast', [makeNode('sub', [c64(1), power], {}, meta)], { to: param.type.dtype }, meta);
}

/** SGD's momentum buffer (torch.optim.SGD): b₁ = g, bₜ = μ·bₜ₋₁ + (1 − dampening)·g after. */
function sgdUpdate(spec: Full<'sgd'>, param: Node, g: Node, ctx: UpdateContext): Update {
  const { op, c, lerp } = builder(param);
  const { momentum: mu, dampening, nesterov } = spec;
  const descend = (direction: Node) => op('sub', param, op('mul', ctx.lr, direction));
  if (!mu) return { param: descend(g), state: [] };
  const buf = ctx.state(param, 'momentum');
  // The buffer starts at zero, so μ·0 + k·g with k = 1 on step 1 and 1 − dampening after gives b₁ = g.
  const k = dampening ? op('sub', c(1), op('mul', c(dampening), op('minimum', op('sub', ctx.step, c(1)), c(1)))) : c(1);
  const next = op('add', op('mul', c(mu), buf), op('mul', k, g));
  const direction = nesterov ? lerp(1, g, mu, next) : next;
  return { param: descend(direction), state: [[buf, next]] };
}

/** Adam and AdamW (torch.optim.Adam/AdamW), with AMSGrad's running maximum of v when asked. */
function adamUpdate(spec: Full<'adam' | 'adamw'>, param: Node, g: Node, ctx: UpdateContext): Update {
  const { op, c, lerp } = builder(param);
  const { beta1: b1, beta2: b2, epsilon: eps, weightDecay: decay } = spec;
  const m = ctx.state(param, 'm');
  const v = ctx.state(param, 'v');
  const m1 = lerp(b1, m, 1 - b1, g);
  const v1 = lerp(b2, v, 1 - b2, op('mul', g, g));
  const state: (readonly [Node, Node])[] = [[m, m1], [v, v1]];
  let second = v1;
  if (spec.amsgrad) {
    const vMax = ctx.state(param, 'v_max');
    second = op('maximum', vMax, v1);
    state.push([vMax, second]);
  }
  const mHat = op('div', m1, biasCorrection(b1, ctx.step, param));
  const vHat = op('div', second, biasCorrection(b2, ctx.step, param));
  // AdamW decays the weights themselves: θ ← θ − γλθ before the Adam step.
  const base = spec.kind === 'adamw' && decay ? op('sub', param, op('mul', op('mul', ctx.lr, c(decay)), param)) : param;
  return { param: op('sub', base, op('mul', ctx.lr, op('div', mHat, op('add', op('sqrt', vHat), c(eps))))), state };
}

/** RMSprop (torch.optim.RMSprop), centered and with momentum when asked. */
function rmspropUpdate(spec: Full<'rmsprop'>, param: Node, g: Node, ctx: UpdateContext): Update {
  const { op, c, lerp } = builder(param);
  const { alpha, epsilon: eps, momentum: mu } = spec;
  const sq = ctx.state(param, 'square_avg');
  const sq1 = lerp(alpha, sq, 1 - alpha, op('mul', g, g));
  const state: (readonly [Node, Node])[] = [[sq, sq1]];
  let avg = sq1;
  if (spec.centered) {
    const ga = ctx.state(param, 'grad_avg');
    const ga1 = lerp(alpha, ga, 1 - alpha, g);
    state.push([ga, ga1]);
    avg = op('sub', sq1, op('mul', ga1, ga1));
  }
  const scaled = op('div', g, op('add', op('sqrt', avg), c(eps)));
  if (!mu) return { param: op('sub', param, op('mul', ctx.lr, scaled)), state };
  const buf = ctx.state(param, 'momentum');
  const buf1 = lerp(mu, buf, 1, scaled);
  return { param: op('sub', param, op('mul', ctx.lr, buf1)), state: [...state, [buf, buf1]] };
}

/** Adagrad (torch.optim.Adagrad): γ̃ = γ / (1 + (t − 1)·lr_decay), sum ← sum + g², θ ← θ − γ̃·g / (√sum + ε). */
function adagradUpdate(spec: Full<'adagrad'>, param: Node, g: Node, ctx: UpdateContext): Update {
  const { op, c } = builder(param);
  const { epsilon: eps, lrDecay, initialAccumulatorValue: initial } = spec;
  // The state holds Σg² from zero (state tensors start at zero); the initial value is added back here.
  const sum = ctx.state(param, 'sum');
  const sum1 = op('add', sum, op('mul', g, g));
  const total = initial ? op('add', sum1, c(initial)) : sum1;
  const lr = lrDecay ? op('div', ctx.lr, op('add', c(1), op('mul', op('sub', ctx.step, c(1)), c(lrDecay)))) : ctx.lr;
  return { param: op('sub', param, op('mul', lr, op('div', g, op('add', op('sqrt', total), c(eps))))), state: [[sum, sum1]] };
}

/** One parameter's update under `spec` (checked by checkOptimizer first), from its (clipped) gradient. */
export function buildUpdate(spec: OptimizerSpec, param: Node, grad: Node, ctx: UpdateContext): Update {
  const { op, c } = builder(param);
  const decay = spec.weightDecay ?? (OPTIMIZER_DEFAULTS[spec.kind]?.weightDecay as number);
  // L2-style weight decay adds λθ to the gradient (AdamW instead decays the weights directly).
  const g = decay && spec.kind !== 'adamw' ? op('add', grad, op('mul', c(decay), param)) : grad;
  switch (spec.kind) {
    case 'sgd':
      return sgdUpdate(withDefaults(spec), param, g, ctx);
    case 'adam':
    case 'adamw':
      return adamUpdate(withDefaults(spec), param, g, ctx);
    case 'rmsprop':
      return rmspropUpdate(withDefaults(spec), param, g, ctx);
    case 'adagrad':
      return adagradUpdate(withDefaults(spec), param, g, ctx);
    default:
      throw new KilnError(`unknown optimizer '${String((spec as OptimizerSpec).kind)}' (sgd, adam, adamw, rmsprop, adagrad)`);
  }
}
