// The JavaScript backend's training entry point: `createTrainer`, whose `step` runs the whole
// compiled training graph and then writes the new parameters and optimizer state in place. The
// runtime's `trainerShell` wraps it (input checks, step count, dropout seeds, fit, evaluate,
// save, load), the same shell the GPU.js backend uses.
import type { ModuleText } from '../writer.ts';
import { ARRAY_NAME } from '../../../src/ir/dtype.ts';
import type { Node } from '../../../src/ir/node.ts';
import { constantData } from '../../../src/ir/constant.ts';
import { BATCH, sampleSize } from '../../../src/ir/shape.ts';
import { literal } from '../../codegen/js.ts';
import { stringLiteral } from '../../codegen/names.ts';
import { STEP_OUTPUT } from '../../train/step.ts';
import { addTrainingDescriptions, classesField, lrLiteral, type TrainingEmit } from '../common.ts';
import { OPEN_MODEL } from './model.ts';
import { poolSetup } from './pool.ts';
import { programParts } from './program-parts.ts';
import { TRAINER_KERNELS } from '../kernel-failure.ts';

/** `createTrainer`: the training step and evaluation over the model's weights, wrapped by the runtime's trainerShell. */
export function addTrainer(f: ModuleText, t: TrainingEmit, hasSimd: boolean, profile = false) {
  const p = t.program;
  const parts = programParts(p, 't');
  const g = p.graph;
  const inputs = g.inputs;
  const [x, labels, lr, step, seed] = [inputs[0], ...inputs.slice(-4)];
  const ev = t.evalProgram;
  const evalParts = programParts(ev, 'e');
  const loss = g.outputs.find((o) => o.name === 'loss')!.node;
  const output = g.outputs.find((o) => o.name === STEP_OUTPUT)!.node;
  // The step's predictions stay in their planned buffer (a graph output: never reused); a view of
  // the last batch's rows, no copy.
  const outputRows = `${sampleSize(output.type.shape)}${output.type.shape[0] === BATCH ? ' * lastBatch' : ''}`;
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
    parameters: [{ name: 'options', type: '{ weights?: WeightsSource; state?: WeightsSource; seed?: number; lr?: number; pool?: ThreadPool; simd?: boolean; allowForeignWeights?: boolean; }', initializer: '{}' }],
    returnType: 'Trainer',
    statements: [
      `// A trainer's own save() resumes whole: weights, optimizer state and step count.`,
      `const saved = savedTrainer(options.weights);`,
      // The model's live weights, and weightsWritten to call after writing them (its packed copies are then remade once).
      `const { model, weights: w, weightsWritten } = ${OPEN_MODEL}(saved ? savedWeights(saved, parameters) : options.weights, { seed: options.seed, pool: options.pool, simd: options.simd, allowForeignWeights: options.allowForeignWeights });`,
      ...poolSetup('options.pool', { hasKernels: hasSimd, enabled: 'options.simd', memory: 'model.memory' }, 'trainer'),
      `const s = resolveWeights(stateParameters, options.state, 0, undefined, false, alloc);`,
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
      // Errors name the kernel and its layers; evaluation's kernels follow the step's in the manifest.
      ...evalParts.statements(TRAINER_KERNELS, p.kernels.length, !!profile),
      `}`,
      ...p.consts.map((c, i) => `const tc${i} = new ${ARRAY_NAME[c.type.dtype]}([${Array.from(constantData(c), literal).join(', ')}]);`),
      `let capacity = 0;`,
      `let lastBatch = 0;`,
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
      ...parts.statements(TRAINER_KERNELS, 0, !!profile),
      ...assignments,
      `weightsWritten();`,
      `lastBatch = batch;`,
      `return ${parts.ref(loss)}[0];`,
      `},`,
      `lastOutput: () => ${parts.ref(output)}.subarray(0, ${outputRows}),`,
      `evaluate(input, labels, batch) {`,
      `evalBatch(input as ${ARRAY_NAME[evalX.type.dtype]}, labels as ${ARRAY_NAME[evalLabels.type.dtype]}, batch);`,
      `return { loss: ${evalParts.ref(evalLoss)}[0], output: ${evalParts.ref(evalOutput)} };`,
      `},`,
      `predict: model.predict,`,
      `readWeights: () => w.map((a) => a.slice()),`,
      `writeWeights(arrays) {`,
      `arrays.forEach((a, i) => w[i].set(a));`,
      `weightsWritten();`,
      `},`,
      `readState: () => s.map((a) => a.slice()),`,
      `writeState: (arrays) => arrays.forEach((a, i) => s[i].set(a)),`,
      `};`,
      `const info: TrainerInfo = { modelName, graphHash, input: inputs[0], labels: labelInfo, parameters, stateParameters, outputWidth: ${outWidth}, defaultLr: ${lrLiteral(t.lr)}, defaultSeed${classesField(evalLabels, evalOutput)} };`,
      `return trainerShell(core, info, { ...options, saved });`,
    ],
  });
}
