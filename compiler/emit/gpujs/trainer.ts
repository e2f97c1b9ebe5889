// The GPU.js backend's `createTrainer`: the training step and evaluation as device kernels over
// the model's weight tensors and the optimizer state, wrapped by the runtime's trainerShell.
import type { ModuleText } from '../writer.ts';
import { constantData } from '../../../src/ir/constant.ts';
import { internal } from '../../../src/ir/errors.ts';
import type { Node } from '../../../src/ir/node.ts';
import { BATCH, sampleSize } from '../../../src/ir/shape.ts';
import { literal } from '../../codegen/js.ts';
import { STEP_OUTPUT } from '../../train/step.ts';
import { addTrainingDescriptions, classesField, lrLiteral, type TrainingEmit } from '../common.ts';
import { asyncLines, deviceCalls, kernelBuilds, perCall, releaseResults } from './device-calls.ts';
import { profiledBuilds } from './profile.ts';
import { namedBuilds, TRAINER_KERNELS } from '../kernel-failure.ts';

/** `modelParams`: the inference program's parameters, in the order of the module's `parameters`. */
export function addCreateTrainer(f: ModuleText, t: TrainingEmit, modelParams: readonly Node[], profile = false) {
  const p = t.program;
  const g = p.graph;
  const [x, labels, lr, step, seed] = [g.inputs[0], ...g.inputs.slice(-4)];
  const stateIndex = (n: Node) => t.state.findIndex((s) => s.attrs.name === n.attrs.name);
  // Resolved here, at compile time: the step looks up no names.
  const modelIndex = (n: Node | string) => {
    const name = typeof n === 'string' ? n : String(n.attrs.name);
    const i = modelParams.findIndex((q) => q.attrs.name === name);
    if (i < 0) internal(`training parameter '${name}' is not a model parameter`);
    return i;
  };
  const paramRef = (n: Node) => (stateIndex(n) >= 0 ? `S[${stateIndex(n)}]` : `P[${modelIndex(n)}]`);
  const hyper = new Map<Node, string>([[x, 'X'], [labels, 'Y'], [lr, 'LR'], [step, 'STEP'], [seed, 'SEED']]);
  const assigned = g.outputs.filter((o) => t.assignments.has(o.name) && p.storageOf(o.node).kind === 'buffer');
  const loss = g.outputs.find((o) => o.name === 'loss')!.node;
  // The step's predictions stay on the device until the next step; lastOutput reads them once, on demand.
  const output = g.outputs.find((o) => o.name === STEP_OUTPUT)!.node;
  const outputOnDevice = p.storageOf(output).kind === 'buffer';
  const outputRows = `${sampleSize(output.type.shape)}${output.type.shape[0] === BATCH ? ' * lastBatch' : ''}`;
  const stepCalls = deviceCalls(p, { prefix: 'tk', input: (i) => hyper.get(g.inputs[i]) ?? 'X', param: paramRef }, [loss, output, ...assigned.map((o) => o.node)]);
  const target = (name: string) => {
    const s = t.state.findIndex((n) => n.attrs.name === name);
    return s >= 0 ? `S[${s}]` : `P[${modelIndex(name)}]`;
  };
  const ev = t.evalProgram;
  const evLoss = ev.graph.outputs.find((o) => o.name === 'loss')!.node;
  const evOut = ev.graph.outputs.find((o) => o.name === 'output')!.node;
  const evalCalls = deviceCalls(ev, { prefix: 'ek', input: (i) => (i === 0 ? 'X' : 'Y'), param: (n) => `P[${modelIndex(n)}]` }, [evLoss, evOut]);
  addTrainingDescriptions(f, t);
  f.addFunction({
    name: 'createTrainer',
    isExported: true,
    docs: [`Creates a trainer whose parameters and optimizer state live on the GPU.js device; learning rate ${lrLiteral(t.lr)} unless given.`],
    parameters: [{ name: 'options', type: 'ModelOptions & { weights?: WeightsSource; state?: WeightsSource; lr?: number; }', initializer: '{}' }],
    returnType: 'Trainer & { backend: GpuMode; ready(): Promise<GpuMode>; }',
    statements: [
      `// A trainer's own save() resumes whole: weights, optimizer state and step count.`,
      `const saved = savedTrainer(options.weights);`,
      `const model = createModel(saved ? savedWeights(saved, parameters) : options.weights, options);`,
      `const { device, params: P } = model;`,
      `const S = resolveWeights(stateParameters, options.state, 0).map((a) => device.upload(a));`,
      `const Ctk = [${p.consts.map((c) => constArray(c)).join(', ')}].map((a) => device.upload(a));`,
      `const Cek = [${ev.consts.map((c) => constArray(c)).join(', ')}].map((a) => device.upload(a));`,
      // Profiled (kiln profile): each kernel timed into kernelTimes, as createModel's are.
      ...(profile ? profiledBuilds(namedBuilds(kernelBuilds(p, 'tk'), TRAINER_KERNELS), p.kernels) : namedBuilds(kernelBuilds(p, 'tk'), TRAINER_KERNELS)),
      ...(profile ? profiledBuilds(namedBuilds(kernelBuilds(ev, 'ek'), TRAINER_KERNELS, p.kernels.length), ev.kernels) : namedBuilds(kernelBuilds(ev, 'ek'), TRAINER_KERNELS, p.kernels.length)),
      `const read = (tensors: DeviceTensor[], infos: readonly ParameterInfo[]) => tensors.map((x, i) => device.read(x, sizeOf(infos[i])) as Float32Array);`,
      `const write = (tensors: DeviceTensor[], arrays: readonly Float32Array[]) => arrays.forEach((a, i) => { device.release(tensors[i]); tensors[i] = device.upload(a); });`,
      `let lastOut: DeviceTensor | undefined;`,
      `let lastOutHost: Float32Array | undefined;`,
      `let lastBatch = 0;`,
      `const core: TrainerCore = {`,
      `step(x, labels, batch, hyper) {`,
      `if (lastOut) device.release(lastOut);`,
      `[lastOut, lastOutHost, lastBatch] = [undefined, undefined, batch];`,
      `const X = device.upload(x);`,
      `const Y = device.upload(asFloat32(labels));`,
      `const LR = device.upload([hyper.lr]);`,
      `const STEP = device.upload([hyper.step]);`,
      `const SEED = device.upload([hyper.seed]);`,
      ...stepCalls.lines,
      // Not a kernel result (an output that is an input or parameter): read before it changes.
      outputOnDevice ? `lastOut = ${stepCalls.ref(output)};` : `lastOutHost = device.read(${stepCalls.ref(output)}, ${outputRows}) as Float32Array;`,
      `for (const input of [X, Y, LR, STEP, SEED]) device.release(input);`,
      `const loss = device.read(${stepCalls.ref(loss)}, 1)[0];`,
      ...releaseResults(stepCalls, p, [loss]),
      `// The new parameters and optimizer state replace the old ones, which go back to their kernels.`,
      ...assigned.map((o) => `device.release(${target(t.assignments.get(o.name)!)});\n${target(t.assignments.get(o.name)!)} = ${stepCalls.ref(o.node)};`),
      `return loss;`,
      `},`,
      // WebGPU's step: the same kernels awaited; loss and predictions come back together (fit's metrics read them).
      `async stepAsync(x, labels, batch, hyper) {`,
      `for (const tensors of [P, S, Ctk]) await device.settle(tensors);`,
      `if (lastOut) device.release(lastOut);`,
      `[lastOut, lastOutHost, lastBatch] = [undefined, undefined, batch];`,
      `const X = await device.uploadAsync(x);`,
      `const Y = await device.uploadAsync(asFloat32(labels));`,
      `const LR = await device.uploadAsync([hyper.lr]);`,
      `const STEP = await device.uploadAsync([hyper.step]);`,
      `const SEED = await device.uploadAsync([hyper.seed]);`,
      ...asyncLines(stepCalls.lines),
      `const reads = Promise.all([device.readAsync(${stepCalls.ref(loss)}, 1), device.readAsync(${stepCalls.ref(output)}, ${outputRows})]);`,
      ...assigned.map((o) => `device.release(${target(t.assignments.get(o.name)!)});\n${target(t.assignments.get(o.name)!)} = ${stepCalls.ref(o.node)};`),
      `const [lossHost, outputHost] = await reads;`,
      `lastOutHost = outputHost as Float32Array;`,
      `for (const input of [X, Y, LR, STEP, SEED]) device.release(input);`,
      ...releaseResults(stepCalls, p, outputOnDevice ? [loss, output] : [loss]),
      `return lossHost[0];`,
      `},`,
      `predictAsync: model.predictAsync,`,
      `async readWeightsAsync() {`,
      `await device.settle(P);`,
      `return Promise.all(P.map(async (t, i) => (await device.readAsync(t, sizeOf(parameters[i]))) as Float32Array));`,
      `},`,
      `async readStateAsync() {`,
      `await device.settle(S);`,
      `return Promise.all(S.map(async (t, i) => (await device.readAsync(t, sizeOf(stateParameters[i]))) as Float32Array));`,
      `},`,
      `lastOutput: () => (lastOutHost ??= lastOut ? (device.read(lastOut, ${outputRows}) as Float32Array) : new Float32Array(0)),`,
      `evaluate(x, labels, batch) {`,
      `const X = device.upload(x);`,
      `const Y = device.upload(asFloat32(labels));`,
      ...evalCalls.lines,
      `device.release(X);`,
      `device.release(Y);`,
      `const loss = device.read(${evalCalls.ref(evLoss)}, 1)[0];`,
      `const output = device.read(${evalCalls.ref(evOut)}, ${perCall(evOut)}) as Float32Array;`,
      ...releaseResults(evalCalls, ev, [evLoss, evOut]),
      `return { loss, output };`,
      `},`,
      // The same evaluation awaited kernel by kernel (WebGPU): loss and outputs read back together.
      `async evaluateAsync(x, labels, batch) {`,
      `for (const tensors of [P, Cek]) await device.settle(tensors);`,
      `const X = await device.uploadAsync(x);`,
      `const Y = await device.uploadAsync(asFloat32(labels));`,
      ...asyncLines(evalCalls.lines),
      `const [lossHost, output] = await Promise.all([device.readAsync(${evalCalls.ref(evLoss)}, 1), device.readAsync(${evalCalls.ref(evOut)}, ${perCall(evOut)})]);`,
      `device.release(X);`,
      `device.release(Y);`,
      ...releaseResults(evalCalls, ev, [evLoss, evOut]),
      `return { loss: lossHost[0], output: output as Float32Array };`,
      `},`,
      `predict: model.predict,`,
      `readWeights: () => read(P, parameters),`,
      `writeWeights: (arrays) => write(P, arrays),`,
      `readState: () => read(S, stateParameters),`,
      `writeState: (arrays) => write(S, arrays),`,
      `};`,
      `const info: TrainerInfo = { modelName, graphHash, input: inputs[0], labels: labelInfo, parameters, stateParameters, outputWidth: ${sampleSize(evOut.type.shape)}, defaultLr: ${lrLiteral(t.lr)}, defaultSeed${classesField(ev.graph.inputs[ev.graph.inputs.length - 1], evOut)} };`,
      // backend is a getter: with { mode: 'async' } it is known once ready() has resolved.
      `const trainer = Object.assign(trainerShell(core, info, { ...options, saved }), { ready: () => device.ready() });`,
      `return Object.defineProperty(trainer, 'backend', { get: () => device.backend, enumerable: true }) as typeof trainer & { backend: GpuMode; };`,
    ],
  });
}

const constArray = (c: Node) => `new Float32Array([${Array.from(constantData(c), literal).join(', ')}])`;
