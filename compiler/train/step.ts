// The training step as one graph: forward + loss + gradients + optimizer update, so it is
// checked, fused, lowered and emitted like any other graph.
import { makeNode } from '../../src/ir/build.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { graphParams, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { gradients } from '../autodiff/grad.ts';
import { buildLoss, labelType, type LossSpec } from './losses.ts';
import { clipGradients } from './clip.ts';
import { checkOptimizer, type OptimizerSpec } from './optimizer-spec.ts';
import { buildUpdate } from './optimizers.ts';
import { toTrainingMode } from './training-mode.ts';

export interface TrainingSpec {
  loss: LossSpec;
  /** The optimizer, its settings and gradient clipping (clipNorm, clipValue). */
  optimizer: OptimizerSpec;
}

export interface TrainingGraph {
  /** Outputs `loss`, `output` (STEP_OUTPUT: the training-mode predictions) and `next:<name>` per assignment. */
  readonly graph: Graph;
  /** Forward (inference form) + loss, for `evaluate`: outputs `loss` and `output`. */
  readonly evalGraph: Graph;
  /** Output name → the parameter (or optimizer state) it overwrites after each step. */
  readonly assignments: ReadonlyMap<string, string>;
  /** Optimizer state tensors, all zero-initialised, not trainable. */
  readonly state: readonly Node[];
}

/**
 * Name of the training graph's output holding the model's predictions for the batch: the forward
 * pass in training mode with the weights before the update, so fit's training metrics need no
 * second forward pass (Keras computes them from the same predictions).
 */
export const STEP_OUTPUT = 'output';

/** Names of the extra inputs of a training graph. */
export const TRAIN_INPUTS = { labels: 'labels', lr: 'lr', step: 'step', seed: 'seed' } as const;

const scalarInput = (name: string) => makeNode('input', [], { name, dtype: 'float32', shape: [] }, { layer: name, layerKind: 'Input' });

/** Σ l1·|w| + l2·w² over every parameter that asks for a penalty. */
function penalties(params: readonly Node[]): Node | null {
  let total: Node | null = null;
  for (const p of params) {
    const r = p.attrs.regularizer as { l1?: number; l2?: number } | undefined;
    if (!r) continue;
    const meta = { layer: p.meta.layer, layerKind: 'Regularizer' };
    const sum = (x: Node, k: number) => makeNode('mul', [makeNode('const', [], { dtype: 'float32', shape: [], values: [k] }, meta), makeNode('reduceSum', [x], { axes: [], keepdims: false }, meta)], {}, meta);
    for (const term of [r.l1 ? sum(makeNode('abs', [p], {}, meta), r.l1) : null, r.l2 ? sum(makeNode('mul', [p, p], {}, meta), r.l2) : null]) {
      if (term) total = total ? makeNode('add', [total, term], {}, meta) : term;
    }
  }
  return total;
}

export function buildTrainingGraph(g: Graph, spec: TrainingSpec): TrainingGraph {
  if (g.outputs.length !== 1) throw new KilnError(`training needs a model with one output, '${g.name}' has ${g.outputs.length}`);
  checkOptimizer(spec.optimizer);
  const lt = labelType(spec.loss, g.outputs[0].node);
  const labels = makeNode('input', [], { name: TRAIN_INPUTS.labels, dtype: lt.dtype, shape: [...lt.shape] }, { layer: 'labels', layerKind: 'Input' });
  const lr = scalarInput(TRAIN_INPUTS.lr);
  const step = scalarInput(TRAIN_INPUTS.step);
  const seed = scalarInput(TRAIN_INPUTS.seed);
  const evalLoss = buildLoss(spec.loss, g.outputs[0].node, labels);
  const evalGraph: Graph = { name: `${g.name}_eval`, inputs: [...g.inputs, labels], outputs: [{ name: 'loss', node: evalLoss }, { name: 'output', node: g.outputs[0].node }] };
  const training = toTrainingMode(g, seed);
  const output = training.graph.outputs[0].node;
  const params = graphParams(training.graph);
  const trainable = params.filter((p) => p.attrs.trainable !== false);
  let loss = buildLoss(spec.loss, output, labels);
  const penalty = penalties(trainable);
  if (penalty) loss = makeNode('add', [loss, penalty], {}, { layer: 'loss', layerKind: 'Loss' });
  const wrt = gradients(loss, trainable);
  const grads = clipGradients(trainable.map((p) => wrt.get(p)!), spec.optimizer);
  const state: Node[] = [];
  const ctx = {
    lr,
    step,
    state(param: Node, role: string) {
      const s = makeNode('param', [], { name: `${param.attrs.name}/${role}`, dtype: param.type.dtype, shape: [...param.type.shape], init: { kind: 'zeros' }, trainable: false }, param.meta);
      state.push(s);
      return s;
    },
  };
  // A graph output, so the memory planner keeps it alive past the backward kernels.
  const outputs = [{ name: 'loss', node: loss }, { name: STEP_OUTPUT, node: output }];
  const assignments = new Map<string, string>();
  const assign = (target: Node, value: Node) => {
    const name = `next:${target.attrs.name}`;
    outputs.push({ name, node: value });
    assignments.set(name, String(target.attrs.name));
  };
  training.updates.forEach(([target, value]) => assign(target, value));
  trainable.forEach((p, i) => {
    const u = buildUpdate(spec.optimizer, p, grads[i], ctx);
    assign(p, u.param);
    u.state.forEach(([s, next]) => assign(s, next));
  });
  return { graph: { name: `${g.name}_train`, inputs: [...g.inputs, labels, lr, step, seed], outputs }, evalGraph, assignments, state };
}
