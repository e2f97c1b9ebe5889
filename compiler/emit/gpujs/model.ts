// Emission for the GPU.js backend: the same API as the JavaScript backend (`createModel`,
// `createTrainer`), with every kernel a GPU.js kernel whose source is written here, at compile
// time. Weights, optimizer state and intermediate results live on the device between kernels;
// only inputs go up and only outputs, losses and metrics come back.
import { Project, ts, VariableDeclarationKind, type SourceFile } from 'ts-morph';
import { constantData } from '../../../src/ir/constant.ts';
import { internal } from '../../../src/ir/errors.ts';
import { ARRAY_NAME } from '../../../src/ir/dtype.ts';
import type { Node } from '../../../src/ir/node.ts';
import { BATCH, isBatched, sampleSize } from '../../../src/ir/shape.ts';
import { describeGpuJsKernel, GPUJS_HELPERS, helpersUsed, renderGpuJsKernel } from '../../codegen/gpujs-kernel.ts';
import { literal } from '../../codegen/js.ts';
import { commentSafe, stringLiteral } from '../../codegen/names.ts';
import { baseOf, type Program } from '../../lower/plan.ts';
import { addDescriptions, header, identityLiteral, runtimeEntry, withoutWeights, type EmitOptions, type EmittedModule } from '../js/model.ts';
import { addTrainingDescriptions, classesField, lrLiteral, type TrainingEmit } from '../js/trainer.ts';
import { indexCheck, indexInputs } from '../index-checks.ts';

/** How the statements of one program name the device tensors they read. */
interface DeviceRefs {
  /** Kernel names get this prefix (`k`, `tk`, `ek`); results are `${prefix}${index}` too, upper-cased. */
  readonly prefix: string;
  input(index: number): string;
  param(n: Node): string;
}

interface DeviceCalls {
  /** Uploads, kernel calls and releases, in order; what `keep` names stays alive. */
  readonly lines: string[];
  /** The device tensor holding node `n`'s value. */
  ref(n: Node): string;
}

/**
 * The statements that run program `p` on the device. Each kernel result is released right after
 * its last reader, except the values in `keep` (outputs to read back, new weights to keep).
 */
function deviceCalls(p: Program, refs: DeviceRefs, keep: readonly Node[]): DeviceCalls {
  const result = (i: number) => `${refs.prefix.toUpperCase()}${i}`;
  const producer = new Map(p.kernels.map((k, i) => [k.writes, i]));
  const ref = (n: Node): string => {
    const s = p.storageOf(n);
    if (s.kind === 'input') return refs.input(s.index);
    if (s.kind === 'param') return refs.param(p.params[s.index]);
    if (s.kind === 'const') return `C${refs.prefix}[${s.index}]`;
    return result(producer.get(baseOf(n))!);
  };
  const kept = new Set(keep.map(baseOf));
  const lastUse = new Map<Node, number>();
  p.kernels.forEach((k, i) => k.reads.forEach((r) => lastUse.set(baseOf(r), i)));
  const lines: string[] = [];
  p.kernels.forEach((k, i) => {
    lines.push(`const ${result(i)} = ${refs.prefix}${i}(batch${k.reads.map((r) => `, ${ref(r)}`).join('')});`);
    const done = [...new Set(k.reads.map(baseOf))].filter((r) => lastUse.get(r) === i && producer.has(r) && !kept.has(r));
    if (done.length) lines.push(done.map((r) => `device.release(${ref(r)});`).join(' '));
  });
  // Results nobody reads (a training graph's unused outputs) are released at once.
  p.kernels.forEach((k, i) => {
    if (!lastUse.has(k.writes) && !kept.has(k.writes)) lines.push(`device.release(${result(i)});`);
  });
  return { lines, ref };
}

/** Releases of the kernel results among `nodes` (outputs already read back), once each. */
function releaseResults(calls: DeviceCalls, p: Program, nodes: readonly Node[]): string[] {
  return [...new Set(nodes.map(baseOf))].filter((n) => p.storageOf(n).kind === 'buffer').map((n) => `device.release(${calls.ref(n)});`);
}

/** `const k0 = device.kernel(k0Source, [...helpers], perSample, batched);` for each kernel. */
function kernelBuilds(p: Program, prefix: string): string[] {
  return p.kernels.map((k, i) => {
    const helpers = helpersUsed(renderGpuJsKernel(k)).map((h) => `helpers.${h}`);
    return `const ${prefix}${i} = device.kernel('${k.name}', ${k.name}Source, [${helpers.join(', ')}], ${sampleSize(k.shape)}, ${isBatched(k.shape)});`;
  });
}

function addKernelSources(f: SourceFile, programs: readonly Program[]) {
  f.addVariableStatement({
    declarationKind: VariableDeclarationKind.Const,
    docs: ['Functions kernels call, spelled to stay defined in GLSL for every float32 argument.'],
    declarations: [{ name: 'helpers', initializer: `{\n${Object.entries(GPUJS_HELPERS).map(([n, s]) => `${n}: ${templateLiteral(s)}`).join(',\n')}\n}` }],
  });
  for (const k of programs.flatMap((p) => p.kernels)) {
    f.addVariableStatement({
      declarationKind: VariableDeclarationKind.Const,
      docs: [describeGpuJsKernel(k).join('\n')],
      declarations: [{ name: `${k.name}Source`, initializer: templateLiteral(renderGpuJsKernel(k)) }],
    });
  }
}

/** A template literal holding `source` verbatim (kernel sources contain no backticks or `${`, but escape anyway). */
const templateLiteral = (source: string) => '`' + source.replace(/[`\\]|\$\{/g, (m) => '\\' + m) + '`';

const perCall = (n: Node) => `${sampleSize(n.type.shape)}${n.type.shape[0] === BATCH ? ' * batch' : ''}`;

function addCreateModel(f: SourceFile, p: Program, o: EmitOptions) {
  const g = p.graph;
  const weightsArg = o.inlineWeights ? 'weights ?? fromBase64(inlineWeights)' : 'weights';
  const run = deviceCalls(p, { prefix: 'k', input: (i) => `X${i}`, param: (n) => `P[${p.params.indexOf(n)}]` }, g.outputs.map((out) => out.node));
  // Checked on the host before upload: a kernel cannot throw.
  const limits = indexInputs(g);
  const outputs = g.outputs.map((out, i) => `const y${i} = device.read(${run.ref(out.node)}, ${perCall(out.node)}, '${out.node.type.dtype}');`);
  f.addInterface({
    name: 'Model',
    isExported: true,
    docs: ['A compiled model on a GPU.js device: weights live there; `predict` sends a batch up and reads the output back.'],
    properties: [
      { name: 'predict', type: `(input: ${g.inputs.length ? ARRAY_NAME[g.inputs[0].type.dtype] : 'Float32Array'}, batch: number) => ${ARRAY_NAME[g.outputs[0].node.type.dtype]}`, docs: [`Runs the model on \`batch\` samples of its first input; returns output '${commentSafe(g.outputs[0].name)}'.`] },
      { name: 'run', type: `(feeds: Readonly<Record<string, Float32Array | Float64Array | Int32Array>>, batch: number) => Record<string, Float32Array | Float64Array | Int32Array>`, docs: ['Runs the model on named inputs; returns every output by name.'] },
      { name: 'getWeights', type: '() => WeightTensor[]', docs: ['The weights, read back from the device.'] },
      { name: 'setWeights', type: '(weights: WeightsSource) => void' },
      { name: 'backend', type: 'GpuMode', docs: ['The GPU.js backend the kernels run on (webgl2, webgl, headlessgl, webasm or cpu).'] },
      { name: 'device', type: 'GpuDevice' },
      { name: 'params', type: 'DeviceTensor[]', docs: ['The live weight tensors on the device, in `parameters` order (a trainer replaces them).'] },
      { name: 'destroy', type: '() => void', docs: ['Frees the kernels and textures (not needed for garbage collection of results).'] },
      { name: 'exportKernels', type: '(batch: number) => PrecompiledKernels', docs: ['Runs one batch of zeros and returns the kernels GPU.js exported, shaders included (WebGL only): pass them as `{ precompiled }` to skip the translation to GLSL at that batch size.'] },
    ],
  });
  f.addFunction({
    name: 'createModel',
    isExported: true,
    docs: [`Creates the model on a GPU.js device from a weight file's bytes or arrays by name (this model's: see allowForeignWeights); without weights, ${withoutWeights(o)}.`],
    parameters: [
      { name: 'weights', type: 'WeightsSource', hasQuestionToken: true },
      { name: 'options', type: 'ModelOptions', initializer: '{}' },
    ],
    returnType: 'Model',
    statements: [
      `if (options.precompiled && options.precompiled.graphHash !== graphHash) throw new Error('these precompiled kernels belong to another model');`,
      `const device = options.device ?? new GpuDevice(options);`,
      `const identity = ${identityLiteral(o)};`,
      `const P = resolveWeights(parameters, ${weightsArg}, options.seed ?? defaultSeed, identity, options.allowForeignWeights).map((a) => device.upload(a));`,
      `const Ck = [${p.consts.map((_, i) => `c${i}`).join(', ')}].map((a) => device.upload(a));`,
      ...kernelBuilds(p, 'k'),
      `function forward(batch: number, feeds: readonly (Float32Array | Float64Array | Int32Array)[]) {`,
      ...g.inputs.map((_, i) => `const X${i} = device.upload(asFloat32(feeds[${i}]));`),
      ...run.lines,
      ...g.inputs.map((_, i) => `device.release(X${i});`),
      ...outputs,
      ...releaseResults(run, p, g.outputs.map((out) => out.node)),
      `return [${g.outputs.map((_, i) => `y${i}`).join(', ')}];`,
      `}`,
      `function run(feeds: Readonly<Record<string, Float32Array | Float64Array | Int32Array>>, batch: number) {`,
      ...g.inputs.map((n, i) => [`const x${i} = feed(feeds, ${stringLiteral(String(n.attrs.name))});`, `checkInput(inputs[${i}], x${i}, batch);`, ...indexCheck(limits, i, `x${i}!`)].join('\n')),
      `const ys = forward(batch, [${g.inputs.map((_, i) => `x${i}!`).join(', ')}]);`,
      // Computed keys: a plain "__proto__" key would set the prototype instead of a property.
      `return {${g.outputs.map((out, i) => `[${stringLiteral(out.name)}]: ys[${i}]`).join(', ')}};`,
      `}`,
      `return {`,
      `predict(x0, batch) {`,
      ...(g.inputs.length !== 1
        ? [`throw new Error(${stringLiteral(`model '${g.name}' has ${g.inputs.length} inputs: use run()`)});`]
        : [`checkInput(inputs[0], x0, batch);`, ...indexCheck(limits, 0, 'x0'), `return forward(batch, [x0])[0] as ${ARRAY_NAME[g.outputs[0].node.type.dtype]};`]),
      `},`,
      `run,`,
      `getWeights: () => P.map((t, i) => ({ name: parameters[i].name, dtype: 'float32', shape: parameters[i].shape as number[], data: device.read(t, sizeOf(parameters[i])) as Float32Array })),`,
      `setWeights(weights: WeightsSource) {`,
      `resolveWeights(parameters, weights, 0, identity, options.allowForeignWeights).forEach((a, i) => { device.release(P[i]); P[i] = device.upload(a); });`,
      `},`,
      `backend: device.backend,`,
      `device,`,
      `params: P,`,
      `destroy: () => device.destroy(),`,
      `exportKernels: (batch: number) => device.exportKernels(graphHash, () => forward(batch, inputs.map((t) => new Float32Array(sizeOf(t) * batch)))),`,
      `};`,
    ],
  });
}

/** `modelParams`: the inference program's parameters, in the order of the module's `parameters`. */
function addCreateTrainer(f: SourceFile, t: TrainingEmit, modelParams: readonly Node[]) {
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
  const stepCalls = deviceCalls(p, { prefix: 'tk', input: (i) => hyper.get(g.inputs[i]) ?? 'X', param: paramRef }, [loss, ...assigned.map((o) => o.node)]);
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
    parameters: [{ name: 'options', type: 'ModelOptions & { weights?: WeightsSource; state?: WeightsSource; lr?: number }', initializer: '{}' }],
    returnType: 'Trainer & { backend: GpuMode }',
    statements: [
      `// A trainer's own save() resumes whole: weights, optimizer state and step count.`,
      `const saved = savedTrainer(options.weights);`,
      `const model = createModel(saved ? savedWeights(saved, parameters) : options.weights, options);`,
      `const { device, params: P } = model;`,
      `const S = resolveWeights(stateParameters, options.state, 0).map((a) => device.upload(a));`,
      `const Ctk = [${p.consts.map((c) => constArray(c)).join(', ')}].map((a) => device.upload(a));`,
      `const Cek = [${ev.consts.map((c) => constArray(c)).join(', ')}].map((a) => device.upload(a));`,
      ...kernelBuilds(p, 'tk'),
      ...kernelBuilds(ev, 'ek'),
      `const read = (tensors: DeviceTensor[], infos: readonly ParameterInfo[]) => tensors.map((x, i) => device.read(x, sizeOf(infos[i])) as Float32Array);`,
      `const write = (tensors: DeviceTensor[], arrays: readonly Float32Array[]) => arrays.forEach((a, i) => { device.release(tensors[i]); tensors[i] = device.upload(a); });`,
      `const core: TrainerCore = {`,
      `step(x, labels, batch, hyper) {`,
      `const X = device.upload(x);`,
      `const Y = device.upload(asFloat32(labels));`,
      `const LR = device.upload([hyper.lr]);`,
      `const STEP = device.upload([hyper.step]);`,
      `const SEED = device.upload([hyper.seed]);`,
      ...stepCalls.lines,
      `for (const input of [X, Y, LR, STEP, SEED]) device.release(input);`,
      `const loss = device.read(${stepCalls.ref(loss)}, 1)[0];`,
      ...releaseResults(stepCalls, p, [loss]),
      `// The new parameters and optimizer state replace the old ones, which go back to their kernels.`,
      ...assigned.map((o) => `device.release(${target(t.assignments.get(o.name)!)});\n${target(t.assignments.get(o.name)!)} = ${stepCalls.ref(o.node)};`),
      `return loss;`,
      `},`,
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
      `predict: model.predict,`,
      `readWeights: () => read(P, parameters),`,
      `writeWeights: (arrays) => write(P, arrays),`,
      `readState: () => read(S, stateParameters),`,
      `writeState: (arrays) => write(S, arrays),`,
      `};`,
      `const info: TrainerInfo = { modelName, graphHash, input: inputs[0], labels: labelInfo, parameters, stateParameters, outputWidth: ${sampleSize(evOut.type.shape)}, defaultLr: ${lrLiteral(t.lr)}, defaultSeed${classesField(ev.graph.inputs[ev.graph.inputs.length - 1], evOut)} };`,
      `return Object.assign(trainerShell(core, info, { ...options, saved }), { backend: device.backend });`,
    ],
  });
}

const constArray = (c: Node) => `new Float32Array([${Array.from(constantData(c), literal).join(', ')}])`;


/** The module's TypeScript source, formatted, and its JavaScript (types stripped). */
export function emitGpuJsModule(p: Program, o: EmitOptions): EmittedModule {
  const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
  const f = project.createSourceFile('model.ts', header(p, o, 'gpujs') + '\n');
  const runtime = o.runtimeImport ?? 'kiln/runtime';
  const gpuRuntime = runtimeEntry(runtime, 'gpujs');
  const runtimeNames = ['checkInput', 'feed', 'resolveWeights', ...(indexInputs(p.graph).size ? ['checkIndices'] : []), ...(o.inlineWeights ? ['fromBase64'] : []), ...(o.training ? ['trainerShell', 'savedTrainer', 'savedWeights'] : [])];
  f.addImportDeclaration({ moduleSpecifier: runtime, namedImports: runtimeNames });
  f.addImportDeclaration({ moduleSpecifier: runtime, isTypeOnly: true, namedImports: ['ParameterInfo', 'TensorInfo', 'WeightTensor', 'WeightsSource', ...(o.training ? ['Trainer', 'TrainerCore', 'TrainerInfo'] : [])] });
  f.addImportDeclaration({ moduleSpecifier: gpuRuntime, namedImports: ['GpuDevice', 'asFloat32'] });
  f.addImportDeclaration({ moduleSpecifier: gpuRuntime, isTypeOnly: true, namedImports: ['DeviceTensor', 'GpuMode', 'GpuOptions', 'PrecompiledKernels'] });
  f.addExportDeclaration({ moduleSpecifier: runtime, isTypeOnly: true, namedExports: ['TensorInfo', 'ParameterInfo', 'WeightsSource', ...(o.training ? ['Trainer'] : [])] });
  addDescriptions(f, p, o, 'gpujs');
  f.addInterface({
    name: 'ModelOptions',
    isExported: true,
    extends: ['GpuOptions'],
    docs: ['Where the model runs: a device to share, or the GPU.js backend to demand (see GpuOptions).'],
    properties: [
      { name: 'seed', type: 'number', hasQuestionToken: true, docs: ['Initialiser seed when no weights are given.'] },
      { name: 'device', type: 'GpuDevice', hasQuestionToken: true, docs: ['A device to share with other models (one GPU context).'] },
      { name: 'allowForeignWeights', type: 'boolean', hasQuestionToken: true, docs: ["Accept a weight file written for another model (names and shapes must still match)."] },
    ],
  });
  f.addFunction({ name: 'sizeOf', parameters: [{ name: 'info', type: 'TensorInfo' }], returnType: 'number', statements: [`return info.shape.reduce<number>((n, d) => n * (d === 'N' ? 1 : d), 1);`] });
  const programs = [p, ...(o.training ? [o.training.program, o.training.evalProgram] : [])];
  f.addStatements([
    '// Kernel sources, one per fused group, with every shape a literal. GPU.js transpiles each to a',
    '// shader when createModel builds it; a thread computes one element of the flat output.',
  ]);
  addKernelSources(f, programs);
  addCreateModel(f, p, o);
  if (o.training) addCreateTrainer(f, o.training, p.params);
  f.formatText({ indentSize: 2, convertTabsToSpaces: true, semicolons: ts.SemicolonPreference.Insert });
  const text = f.getFullText();
  const js = ts.transpileModule(text, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true } }).outputText;
  return { ts: text, js };
}
