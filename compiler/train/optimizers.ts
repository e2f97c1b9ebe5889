// Optimizer update rules as IR, following PyTorch's documentation; state lives in extra,
// non-trainable parameters so a trainer's save file holds it and training can resume.
import { makeNode } from '../../src/ir/build.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { Node, NodeMeta } from '../../src/ir/node.ts';
import type { OpName } from '../../src/ir/ops/index.ts';

export type OptimizerSpec =
  | { kind: 'sgd'; lr: number; momentum?: number; nesterov?: boolean; weightDecay?: number }
  | { kind: 'adam' | 'adamw'; lr: number; beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number }
  | { kind: 'rmsprop'; lr: number; alpha?: number; epsilon?: number; momentum?: number; centered?: boolean; weightDecay?: number }
  | { kind: 'adagrad'; lr: number; epsilon?: number; weightDecay?: number };

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

export function buildUpdate(spec: OptimizerSpec, param: Node, grad: Node, ctx: UpdateContext): Update {
  const { op, c, lerp } = builder(param);
  const decay = spec.weightDecay ?? 0;
  // L2-style weight decay adds wd·p to the gradient (AdamW instead decays the weights directly).
  const g = decay && spec.kind !== 'adamw' ? op('add', grad, op('mul', c(decay), param)) : grad;
  const descend = (p: Node, direction: Node) => op('sub', p, op('mul', ctx.lr, direction));
  switch (spec.kind) {
    case 'sgd': {
      const mu = spec.momentum ?? 0;
      if (!mu) return { param: descend(param, g), state: [] };
      const buf = ctx.state(param, 'momentum');
      const next = lerp(mu, buf, 1, g);
      const direction = spec.nesterov ? lerp(1, g, mu, next) : next;
      return { param: descend(param, direction), state: [[buf, next]] };
    }
    case 'adam':
    case 'adamw': {
      const [b1, b2, eps] = [spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon ?? 1e-8];
      const m = ctx.state(param, 'm');
      const v = ctx.state(param, 'v');
      const m1 = lerp(b1, m, 1 - b1, g);
      const v1 = lerp(b2, v, 1 - b2, op('mul', g, g));
      const correction1 = biasCorrection(b1, ctx.step, param);
      const correction2 = biasCorrection(b2, ctx.step, param);
      const mHat = op('div', m1, correction1);
      const vHat = op('div', v1, correction2);
      const base = spec.kind === 'adamw' && decay ? op('sub', param, op('mul', op('mul', ctx.lr, c(decay)), param)) : param;
      return { param: descend(base, op('div', mHat, op('add', op('sqrt', vHat), c(eps)))), state: [[m, m1], [v, v1]] };
    }
    case 'rmsprop': {
      const [alpha, eps, mu] = [spec.alpha ?? 0.99, spec.epsilon ?? 1e-8, spec.momentum ?? 0];
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
      if (!mu) return { param: descend(param, scaled), state };
      const buf = ctx.state(param, 'momentum');
      const buf1 = lerp(mu, buf, 1, scaled);
      return { param: descend(param, buf1), state: [...state, [buf, buf1]] };
    }
    case 'adagrad': {
      const sum = ctx.state(param, 'sum');
      const sum1 = op('add', sum, op('mul', g, g));
      return { param: descend(param, op('div', g, op('add', op('sqrt', sum1), c(spec.epsilon ?? 1e-10)))), state: [[sum, sum1]] };
    }
    default:
      throw new KilnError(`unknown optimizer '${String((spec as OptimizerSpec).kind)}' (sgd, adam, adamw, rmsprop, adagrad)`);
  }
}
