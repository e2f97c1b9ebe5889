// The training entry point of an emitted module: `createTrainer`, whose `step` runs the whole
// compiled training graph and then writes the new parameters and optimizer state in place. The
// runtime's `trainerShell` wraps it (input checks, step count, dropout seeds, fit, evaluate,
// save, load), the same shell the GPU.js backend uses.
import { VariableDeclarationKind, type SourceFile } from 'ts-morph';
import { ARRAY_NAME } from '../../../src/ir/dtype.ts';
import type { Node } from '../../../src/ir/node.ts';
import { constantData } from '../../../src/ir/constant.ts';
import { sampleSize } from '../../../src/ir/shape.ts';
import { stringLiteral } from '../../codegen/names.ts';
import { literal } from '../../codegen/js.ts';
import type { Program } from '../../lower/plan.ts';
import { programParts } from './program-parts.ts';
import { poolSetup } from './model.ts';

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

/** The exported `stateParameters` and `labelInfo` of a module with a trainer (either backend). */
export function addTrainingDescriptions(f: SourceFile, t: TrainingEmit) {
  const labels = t.program.graph.inputs[t.program.graph.inputs.length - 4];
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
}

/**
 * The compiled-in learning rate as source text: only a number is ever written (anything else as
 * NaN, which createTrainer then refuses with a clear error).
 */
export const lrLiteral = (lr: unknown): string => literal(typeof lr === 'number' ? lr : NaN);

/**
 * `, classes: C` for the TrainerInfo of a trainer whose labels are class ids (int32, sparse
 * categorical cross-entropy: the last output dim is the class count), so the shell checks them.
 */
export function classesField(labels: Node, output: Node): string {
  const shape = output.type.shape;
  const classes = shape[shape.length - 1];
  return labels.type.dtype === 'int32' && typeof classes === 'number' ? `, classes: ${classes}` : '';
}

export function addTrainer(f: SourceFile, t: TrainingEmit, hasSimd: boolean) {
  const p = t.program;
  const parts = programParts(p, 't');
  const g = p.graph;
  const inputs = g.inputs;
  const [x, labels, lr, step, seed] = [inputs[0], ...inputs.slice(-4)];
  const ev = t.evalProgram;
  const evalParts = programParts(ev, 'e');
  const loss = g.outputs.find((o) => o.name === 'loss')!.node;
  addTrainingDescriptions(f, t);
  const trainParam = (n: Node, i: number) => {
    const name = String(n.attrs.name);
    const isState = t.state.some((s) => s.attrs.name === name);
    return `const tp${i} = ${isState ? 's' : 'w'}[${isState ? t.state.findIndex((s) => s.attrs.name === name) : `indexOfParameter(${stringLiteral(name)})`}];`;
  };
  const assignments = g.outputs
    .filter((o) => t.assignments.has(o.name))
    .map((o) => {
      const target = p.params.findIndex((n) => n.attrs.name === t.assignments.get(o.name));
      // A block copy (memcpy speed); a planned buffer may be longer than the parameter, and only
      // then is a view made.
      const [n, src] = [sampleSize(o.node.type.shape), parts.ref(o.node)];
      return `tp${target}.set(${src}.length === ${n} ? ${src} : ${src}.subarray(0, ${n}));`;
    });
  const inputRef = (n: Node) => parts.ref(n);
  const evalParams = ev.params.map((n, i) => `const ep${i} = w[indexOfParameter(${stringLiteral(String(n.attrs.name))})];`);
  const evalLoss = ev.graph.outputs.find((o) => o.name === 'loss')!.node;
  const evalOutput = ev.graph.outputs.find((o) => o.name === 'output')!.node;
  const [evalX, evalLabels] = [ev.graph.inputs[0], ev.graph.inputs[ev.graph.inputs.length - 1]];
  const outWidth = sampleSize(evalOutput.type.shape);
  f.addFunction({
    name: 'createTrainer',
    isExported: true,
    docs: [`Creates a trainer (optimizer and loss compiled in); weights default to fresh ones from \`seed\`, learning rate to ${lrLiteral(t.lr)}.`],
    parameters: [{ name: 'options', type: '{ weights?: WeightsSource; state?: WeightsSource; seed?: number; lr?: number; pool?: ThreadPool; simd?: boolean; allowForeignWeights?: boolean }', initializer: '{}' }],
    returnType: 'Trainer',
    statements: [
      `// A trainer's own save() resumes whole: weights, optimizer state and step count.`,
      `const saved = savedTrainer(options.weights);`,
      `const model = createModel(saved ? savedWeights(saved, parameters) : options.weights, { seed: options.seed, pool: options.pool, simd: options.simd, allowForeignWeights: options.allowForeignWeights });`,
      ...poolSetup('options.pool', { hasKernels: hasSimd, enabled: 'options.simd', memory: 'model.memory' }),
      `const w = model.weightArrays;`,
      `const s = resolveWeights(stateParameters, options.state, 0).map(place);`,
      `const indexOfParameter = (name: string) => parameters.findIndex((q) => q.name === name);`,
      ...p.params.map(trainParam),
      `const ${inputRef(lr)} = new Float32Array(1);`,
      `const ${inputRef(step)} = new Float32Array(1);`,
      `const ${inputRef(seed)} = new Float32Array(1);`,
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
      `/** The compiled step and evaluation; trainerShell adds checks, fit, evaluate, save and load. */`,
      `const core: TrainerCore = {`,
      `step(input, labels, batch, hyper) {`,
      `const ${inputRef(x)} = input as ${ARRAY_NAME[x.type.dtype]};`,
      `const ${inputRef(labels)} = labels as ${ARRAY_NAME[labels.type.dtype]};`,
      `reserve(batch);`,
      `${inputRef(lr)}[0] = hyper.lr;`,
      `${inputRef(step)}[0] = hyper.step;`,
      `${inputRef(seed)}[0] = hyper.seed;`,
      ...parts.calls,
      ...assignments,
      `return ${parts.ref(loss)}[0];`,
      `},`,
      `evaluate(input, labels, batch) {`,
      `evalBatch(input as ${ARRAY_NAME[evalX.type.dtype]}, labels as ${ARRAY_NAME[evalLabels.type.dtype]}, batch);`,
      `return { loss: ${evalParts.ref(evalLoss)}[0], output: ${evalParts.ref(evalOutput)} };`,
      `},`,
      `predict: model.predict,`,
      `readWeights: () => w.map((a) => a.slice()),`,
      `writeWeights: (arrays) => arrays.forEach((a, i) => w[i].set(a)),`,
      `readState: () => s.map((a) => a.slice()),`,
      `writeState: (arrays) => arrays.forEach((a, i) => s[i].set(a)),`,
      `};`,
      `const info: TrainerInfo = { modelName, graphHash, input: inputs[0], labels: labelInfo, parameters, stateParameters, outputWidth: ${outWidth}, defaultLr: ${lrLiteral(t.lr)}, defaultSeed${classesField(evalLabels, evalOutput)} };`,
      `return trainerShell(core, info, { ...options, saved });`,
    ],
  });
}
