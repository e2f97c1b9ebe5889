// The training entry point of an emitted module: `createTrainer`, whose `step` runs the whole
// compiled training graph and then writes the new parameters and optimizer state in place.
import { VariableDeclarationKind, type SourceFile } from 'ts-morph';
import { ARRAY_NAME } from '../../src/ir/dtype.ts';
import type { Node } from '../../src/ir/node.ts';
import { constantData } from '../../src/ir/constant.ts';
import { sampleSize } from '../../src/ir/shape.ts';
import { stringLiteral } from '../codegen/names.ts';
import type { Program } from '../lower/plan.ts';
import { programParts } from './program-parts.ts';

export interface TrainingEmit {
  readonly program: Program;
  /** Output name → name of the parameter or state tensor it replaces after each step. */
  readonly assignments: ReadonlyMap<string, string>;
  readonly state: readonly Node[];
  /** The learning rate compiled in as the default. */
  readonly lr: number;
}

const info = (n: Node) =>
  `{ name: ${stringLiteral(String(n.attrs.name))}, dtype: '${n.type.dtype}', shape: [${n.type.shape.join(', ')}], init: { kind: 'zeros' }, trainable: false }`;

export function addTrainer(f: SourceFile, t: TrainingEmit) {
  const p = t.program;
  const parts = programParts(p, 't');
  const g = p.graph;
  const inputs = g.inputs;
  const [x, labels, lr, step] = [inputs[0], inputs[inputs.length - 3], inputs[inputs.length - 2], inputs[inputs.length - 1]];
  const loss = g.outputs.find((o) => o.name === 'loss')!.node;
  f.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['Optimizer state, saved with the weights so training resumes where it stopped.'],
    declarations: [{ name: 'stateParameters', type: 'readonly ParameterInfo[]', initializer: `[${t.state.map(info).join(',\n')}]` }],
  });
  f.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    declarations: [{ name: 'labelInfo', type: 'TensorInfo', initializer: `{ name: 'labels', dtype: '${labels.type.dtype}', shape: [${labels.type.shape.map((d) => (typeof d === 'number' ? d : "'N'")).join(', ')}] }` }],
  });
  f.addInterface({
    name: 'Trainer',
    isExported: true,
    docs: ['A model being trained: `step` is one compiled forward + loss + backward + update pass.'],
    properties: [
      { name: 'step', type: `(input: ${ARRAY_NAME[x.type.dtype]}, labels: ${ARRAY_NAME[labels.type.dtype]}, batch: number) => number`, docs: ['One optimizer step on a batch; returns the batch loss.'] },
      { name: 'predict', type: 'Model["predict"]', docs: ['Inference with the current weights.'] },
      { name: 'getWeights', type: '() => WeightTensor[]' },
      { name: 'getState', type: '() => WeightTensor[]', docs: ['A copy of the optimizer state.'] },
      { name: 'setWeights', type: '(weights: WeightsSource) => void' },
      { name: 'setState', type: '(state: WeightsSource) => void' },
      { name: 'steps', type: 'number', docs: ['Steps taken so far (Adam bias correction counts them).'] },
      { name: 'lr', type: 'number', docs: ['Learning rate of the next step; schedules set it between steps.'] },
    ],
  });
  const trainParam = (n: Node, i: number) => {
    const name = String(n.attrs.name);
    const isState = t.state.some((s) => s.attrs.name === name);
    return `const tp${i} = ${isState ? 's' : 'w'}[${isState ? t.state.findIndex((s) => s.attrs.name === name) : `indexOfParameter(${stringLiteral(name)})`}];`;
  };
  const assignments = g.outputs
    .filter((o) => t.assignments.has(o.name))
    .map((o) => {
      const target = p.params.findIndex((n) => n.attrs.name === t.assignments.get(o.name));
      return `tp${target}.set(${parts.ref(o.node)}.subarray(0, ${sampleSize(o.node.type.shape)}));`;
    });
  const inputRef = (n: Node) => parts.ref(n);
  f.addFunction({
    name: 'createTrainer',
    isExported: true,
    docs: [`Creates a trainer (optimizer and loss compiled in); weights default to fresh ones from \`seed\`, learning rate to ${t.lr}.`],
    parameters: [{ name: 'options', type: '{ weights?: WeightsSource; state?: WeightsSource; seed?: number; lr?: number }', initializer: '{}' }],
    returnType: 'Trainer',
    statements: [
      `const model = createModel(options.weights, { seed: options.seed });`,
      `const w = model.weightArrays;`,
      `const s = resolveWeights(stateParameters, options.state, 0);`,
      `const indexOfParameter = (name: string) => parameters.findIndex((q) => q.name === name);`,
      ...p.params.map(trainParam),
      `const ${inputRef(lr)} = new Float32Array(1);`,
      `const ${inputRef(step)} = new Float32Array(1);`,
      ...p.consts.map((c, i) => `const tc${i} = new ${ARRAY_NAME[c.type.dtype]}([${Array.from(constantData(c)).join(', ')}]);`),
      `let capacity = 0;`,
      ...parts.declarations,
      `function reserve(batch: number): void {`,
      `if (batch <= capacity) return;`,
      `capacity = batch;`,
      ...parts.reserve,
      `}`,
      `const trainer: Trainer = {`,
      `steps: 0,`,
      `lr: options.lr ?? ${t.lr},`,
      `step(${inputRef(x)}: ${ARRAY_NAME[x.type.dtype]}, ${inputRef(labels)}: ${ARRAY_NAME[labels.type.dtype]}, batch: number): number {`,
      `checkInput(inputs[0], ${inputRef(x)}, batch);`,
      `checkInput(labelInfo, ${inputRef(labels)}, batch);`,
      `reserve(batch);`,
      `trainer.steps++;`,
      `${inputRef(lr)}[0] = trainer.lr;`,
      `${inputRef(step)}[0] = trainer.steps;`,
      ...parts.calls,
      ...assignments,
      `return ${parts.ref(loss)}[0];`,
      `},`,
      `predict: model.predict,`,
      `getWeights: model.getWeights,`,
      `getState: () => snapshotWeights(stateParameters, s),`,
      `setWeights(weights: WeightsSource) { resolveWeights(parameters, weights, 0).forEach((a, i) => w[i].set(a)); },`,
      `setState(state: WeightsSource) { resolveWeights(stateParameters, state, 0).forEach((a, i) => s[i].set(a)); },`,
      `};`,
      `return trainer;`,
    ],
  });
}
