// The training entry point of an emitted module: `createTrainer`, whose `step` runs the whole
// compiled training graph and then writes the new parameters and optimizer state in place.
import { VariableDeclarationKind, type SourceFile } from 'ts-morph';
import { ARRAY_NAME } from '../../src/ir/dtype.ts';
import type { Node } from '../../src/ir/node.ts';
import { constantData } from '../../src/ir/constant.ts';
import { sampleSize } from '../../src/ir/shape.ts';
import { stringLiteral } from '../codegen/names.ts';
import { literal } from '../codegen/js.ts';
import type { Program } from '../lower/plan.ts';
import { programParts } from './program-parts.ts';
import { poolSetup } from './module.ts';

export interface TrainingEmit {
  readonly program: Program;
  /** Forward (inference form) + loss, for `evaluate`. */
  readonly evalProgram: Program;
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
  const [x, labels, lr, step, seed] = [inputs[0], ...inputs.slice(-4)];
  const ev = t.evalProgram;
  const evalParts = programParts(ev, 'e');
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
      { name: 'fit', type: '(data: Dataset, options: FitOptions) => EpochLog[]', docs: ['Epochs of shuffled mini-batches; returns a log per epoch.'] },
      { name: 'evaluate', type: '(data: Dataset, batchSize?: number) => Evaluation', docs: ['Mean loss and accuracy with the inference form of the model (no dropout, running statistics).'] },
      { name: 'save', type: '() => Uint8Array', docs: ['Weights, optimizer state, step count and dropout RNG as one weight file.'] },
      { name: 'load', type: '(bytes: Uint8Array | ArrayBuffer) => void', docs: ['Restores what `save` wrote: training continues bit-identically.'] },
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
      // A plain copy loop: a planned buffer may be longer than the parameter, and a subarray
      // view per parameter per step would allocate in the training loop.
      return `for (let i = 0; i < ${sampleSize(o.node.type.shape)}; i++) tp${target}[i] = ${parts.ref(o.node)}[i];`;
    });
  const inputRef = (n: Node) => parts.ref(n);
  const evalParams = ev.params.map((n, i) => `const ep${i} = w[indexOfParameter(${stringLiteral(String(n.attrs.name))})];`);
  const evalLoss = ev.graph.outputs.find((o) => o.name === 'loss')!.node;
  const evalOutput = ev.graph.outputs.find((o) => o.name === 'output')!.node;
  const [evalX, evalLabels] = [ev.graph.inputs[0], ev.graph.inputs[ev.graph.inputs.length - 1]];
  const outWidth = sampleSize(evalOutput.type.shape);
  const labelWidth = sampleSize(labels.type.shape);
  f.addFunction({
    name: 'createTrainer',
    isExported: true,
    docs: [`Creates a trainer (optimizer and loss compiled in); weights default to fresh ones from \`seed\`, learning rate to ${t.lr}.`],
    parameters: [{ name: 'options', type: '{ weights?: WeightsSource; state?: WeightsSource; seed?: number; lr?: number; pool?: ThreadPool }', initializer: '{}' }],
    returnType: 'Trainer',
    statements: [
      `const sizes: SampleSizes = { input: ${sampleSize(x.type.shape)}, label: ${sampleSize(labels.type.shape)} };`,
      `const model = createModel(options.weights, { seed: options.seed, pool: options.pool });`,
      ...poolSetup('options.pool'),
      `const w = model.weightArrays;`,
      `const s = resolveWeights(stateParameters, options.state, 0).map((a) => pool?.share(a) ?? a);`,
      `const indexOfParameter = (name: string) => parameters.findIndex((q) => q.name === name);`,
      ...p.params.map(trainParam),
      `const ${inputRef(lr)} = new Float32Array(1);`,
      `const ${inputRef(step)} = new Float32Array(1);`,
      `const ${inputRef(seed)} = new Float32Array(1);`,
      `/** Draws each step's dropout seed; saved with the trainer so a resumed run draws the same. */`,
      `let dropoutRng = new Rng((options.seed ?? defaultSeed) + 1);`,
      ...evalParams,
      ...ev.consts.map((c, i) => `const ec${i} = new ${ARRAY_NAME[c.type.dtype]}([${Array.from(constantData(c), literal).join(', ')}]);`),
      ...evalParts.declarations,
      `let evalCapacity = 0;`,
      `function evalBatch(${evalParts.ref(evalX)}: ${ARRAY_NAME[evalX.type.dtype]}, ${evalParts.ref(evalLabels)}: ${ARRAY_NAME[evalLabels.type.dtype]}, batch: number): void {`,
      `if (batch > evalCapacity) {`,
      `evalCapacity = batch;`,
      ...evalParts.reserve,
      `}`,
      ...evalParts.calls,
      `}`,
      ...p.consts.map((c, i) => `const tc${i} = new ${ARRAY_NAME[c.type.dtype]}([${Array.from(constantData(c), literal).join(', ')}]);`),
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
      `// Below 2^24 so the float32 input holds it exactly.`,
      `${inputRef(seed)}[0] = dropoutRng.int(16777216);`,
      ...parts.calls,
      ...assignments,
      `return ${parts.ref(loss)}[0];`,
      `},`,
      `predict: model.predict,`,
      `getWeights: model.getWeights,`,
      `getState: () => snapshotWeights(stateParameters, s),`,
      `setWeights(weights: WeightsSource) { resolveWeights(parameters, weights, 0).forEach((a, i) => w[i].set(a)); },`,
      `setState(state: WeightsSource) { resolveWeights(stateParameters, state, 0).forEach((a, i) => s[i].set(a)); },`,
      `fit: (data: Dataset, fitOptions: FitOptions) => fitLoop(trainer, sizes, data, fitOptions),`,
      `evaluate(data: Dataset, batchSize = 256): Evaluation {`,
      `if (!(data.count > 0)) throw new RangeError('evaluate needs at least one sample');`,
      `let loss = 0;`,
      `let correct = 0;`,
      `for (let i = 0; i < data.count; i += batchSize) {`,
      `const n = Math.min(batchSize, data.count - i);`,
      `const xs = data.x.subarray(i * sizes.input, (i + n) * sizes.input) as ${ARRAY_NAME[evalX.type.dtype]};`,
      `const ys = data.y.subarray(i * sizes.label, (i + n) * sizes.label) as ${ARRAY_NAME[evalLabels.type.dtype]};`,
      `checkInput(inputs[0], xs, n);`,
      `checkInput(labelInfo, ys, n);`,
      `evalBatch(xs, ys, n);`,
      `loss += ${evalParts.ref(evalLoss)}[0] * n;`,
      `for (let j = 0; j < n; j++) if (isCorrect(${evalParts.ref(evalOutput)}, ${outWidth}, j, ys, ${labelWidth})) correct++;`,
      `}`,
      `return { loss: loss / data.count, accuracy: correct / data.count };`,
      `},`,
      `save(): Uint8Array {`,
      `return encodeWeights([...model.getWeights(), ...snapshotWeights(stateParameters, s)], { model: modelName, graphHash, steps: trainer.steps, lr: trainer.lr, dropoutRng: dropoutRng.getState() });`,
      `},`,
      `load(bytes: Uint8Array | ArrayBuffer): void {`,
      `const { tensors, meta } = decodeWeights(bytes);`,
      `if (typeof meta.graphHash === 'string' && meta.graphHash !== graphHash) throw new Error(\`this file was saved from another model (graph \${String(meta.graphHash).slice(0, 12)}…, this module's is \${graphHash.slice(0, 12)}…)\`);`,
      `const byName = Object.fromEntries(tensors.map((x) => [x.name, x.data as Float32Array]));`,
      `resolveWeights(parameters, byName, 0).forEach((a, i) => w[i].set(a));`,
      `resolveWeights(stateParameters, byName, 0).forEach((a, i) => s[i].set(a));`,
      `trainer.steps = Number(meta.steps ?? 0);`,
      `if (typeof meta.lr === 'number') trainer.lr = meta.lr;`,
      `if (Array.isArray(meta.dropoutRng)) dropoutRng = Rng.fromState(meta.dropoutRng as number[]);`,
      `},`,
      `};`,
      `return trainer;`,
    ],
  });
}
