// The GPU.js backend's `Model` and `createModel`: weights uploaded once, each call's inputs
// checked on the host and uploaded, kernels run on the device, outputs read back.
import type { ModuleText } from '../writer.ts';
import { ARRAY_NAME } from '../../../src/ir/dtype.ts';
import { commentSafe, stringLiteral } from '../../codegen/names.ts';
import type { Program } from '../../lower/plan.ts';
import { identityLiteral, withoutWeights, type EmitOptions } from '../common.ts';
import { addManifest } from '../manifest.ts';
import { indexCheck, indexInputs } from '../index-checks.ts';
import { asyncLines, deviceCalls, kernelBuilds, perCall, releaseResults } from './device-calls.ts';
import { addGpuProfile, profiledBuilds, profiledModeCheck } from './profile.ts';
import { MODEL_KERNELS, namedBuilds } from '../kernel-failure.ts';

/** `Model` and `createModel` on a GPU.js device; `wgslKernels` (the kernels Kiln's WGSL runs on WebGPU) go into the manifest. */
export function addCreateModel(f: ModuleText, p: Program, o: EmitOptions, wgslKernels: readonly string[] = []) {
  const g = p.graph;
  // What the module is and where each kernel came from, for tools (kiln inspect on a module).
  addManifest(f, p, o, 'gpujs', wgslKernels);
  // Opt-in kernel timing (kiln profile): the table covers the trainer's kernels too.
  if (o.profile) addGpuProfile(f, [p, ...(o.training ? [o.training.program, o.training.evalProgram] : [])]);
  const weightsArg = o.inlineWeights ? 'weights ?? fromBase64(inlineWeights)' : 'weights';
  const run = deviceCalls(p, { prefix: 'k', input: (i) => `X${i}`, param: (n) => `P[${p.params.indexOf(n)}]` }, g.outputs.map((out) => out.node));
  // Checked on the host before upload: a kernel cannot throw.
  const limits = indexInputs(g);
  const outputs = g.outputs.map((out, i) => `const y${i} = device.read(${run.ref(out.node)}, ${perCall(out.node)}, '${out.node.type.dtype}');`);
  const outputsAsync = g.outputs.map((out, i) => `const y${i} = await device.readAsync(${run.ref(out.node)}, ${perCall(out.node)}, '${out.node.type.dtype}');`);
  const inputType = g.inputs.length ? ARRAY_NAME[g.inputs[0].type.dtype] : 'Float32Array';
  const outputType = ARRAY_NAME[g.outputs[0].node.type.dtype];
  const feedsType = 'Readonly<Record<string, Float32Array | Float64Array | Int32Array>>';
  const checkFeeds = g.inputs.map((n, i) => [`const x${i} = feed(feeds, ${stringLiteral(String(n.attrs.name))});`, `checkInput(inputs[${i}], x${i}, batch);`, ...indexCheck(limits, i, `x${i}!`)].join('\n'));
  const byName = `{ ${g.outputs.map((out, i) => `[${stringLiteral(out.name)}]: ys[${i}]`).join(', ')} }`;
  const predictBody = (call: string) =>
    g.inputs.length !== 1
      ? [`throw new Error(${stringLiteral(`model '${g.name}' has ${g.inputs.length} inputs: use run()`)});`]
      : [`checkInput(inputs[0], x0, batch);`, ...indexCheck(limits, 0, 'x0'), `return (${call})[0] as ${outputType};`];
  f.addInterface({
    name: 'Model',
    isExported: true,
    docs: ['A compiled model on a GPU.js device: weights live there; `predict` sends a batch up and reads the output back.'],
    properties: [
      { name: 'predict', type: `(input: ${inputType}, batch: number) => ${outputType}`, docs: [`Runs the model on \`batch\` samples of its first input; returns output '${commentSafe(g.outputs[0].name)}'. Synchronous backends only (not webgpu).`] },
      { name: 'predictAsync', type: `(input: ${inputType}, batch: number) => Promise<${outputType}>`, docs: ['`predict` on every backend, WebGPU included: the output is read back without blocking the page.'] },
      { name: 'runAsync', type: `(feeds: ${feedsType}, batch: number) => Promise<Record<string, Float32Array | Float64Array | Int32Array>>`, docs: ['`run` on every backend, WebGPU included.'] },
      { name: 'getWeightsAsync', type: '() => Promise<WeightTensor[]>', docs: ['`getWeights` on every backend, WebGPU included.'] },
      { name: 'ready', type: '() => Promise<GpuMode>', docs: ["Opens the device (WebGPU's opens asynchronously) and resolves to the backend that runs; the *Async methods call it."] },
      { name: 'run', type: `(feeds: Readonly<Record<string, Float32Array | Float64Array | Int32Array>>, batch: number) => Record<string, Float32Array | Float64Array | Int32Array>`, docs: ['Runs the model on named inputs; returns every output by name.'] },
      { name: 'getWeights', type: '() => WeightTensor[]', docs: ['The weights, read back from the device.'] },
      { name: 'setWeights', type: '(weights: WeightsSource) => void' },
      { name: 'backend', type: 'GpuMode', docs: ["The GPU.js backend the kernels run on (webgpu, webgl2, webgl, headlessgl, webasm or cpu); with { mode: 'async' }, known once ready() resolves."] },
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
      ...(o.profile ? [profiledModeCheck()] : []),
      `const identity = ${identityLiteral(o)};`,
      `const P = resolveWeights(parameters, ${weightsArg}, options.seed ?? defaultSeed, identity, options.allowForeignWeights).map((a) => device.upload(a));`,
      `const Ck = [${p.consts.map((_, i) => `c${i}`).join(', ')}].map((a) => device.upload(a));`,
      // Each kernel's errors name it and its layers; profiled, its calls are timed too.
      ...(o.profile ? profiledBuilds(namedBuilds(kernelBuilds(p, 'k'), MODEL_KERNELS), p.kernels) : namedBuilds(kernelBuilds(p, 'k'), MODEL_KERNELS)),
      `function forward(batch: number, feeds: readonly (Float32Array | Float64Array | Int32Array)[]) {`,
      ...g.inputs.map((_, i) => `const X${i} = device.upload(asFloat32(feeds[${i}]));`),
      ...run.lines,
      ...g.inputs.map((_, i) => `device.release(X${i});`),
      ...outputs,
      ...releaseResults(run, p, g.outputs.map((out) => out.node)),
      `return [${g.outputs.map((_, i) => `y${i}`).join(', ')}];`,
      `}`,
      // The same program awaited kernel by kernel: weights set while the device was opening go up first.
      `async function forwardAsync(batch: number, feeds: readonly (Float32Array | Float64Array | Int32Array)[]) {`,
      `await device.settle(P);`,
      `await device.settle(Ck);`,
      ...g.inputs.map((_, i) => `const X${i} = await device.uploadAsync(asFloat32(feeds[${i}]));`),
      ...asyncLines(run.lines),
      ...g.inputs.map((_, i) => `device.release(X${i});`),
      ...outputsAsync,
      ...releaseResults(run, p, g.outputs.map((out) => out.node)),
      `return [${g.outputs.map((_, i) => `y${i}`).join(', ')}];`,
      `}`,
      `function run(feeds: ${feedsType}, batch: number) {`,
      ...checkFeeds,
      `const ys = forward(batch, [${g.inputs.map((_, i) => `x${i}!`).join(', ')}]);`,
      // Computed keys: a plain "__proto__" key would set the prototype instead of a property.
      `return ${byName};`,
      `}`,
      `async function runAsync(feeds: ${feedsType}, batch: number) {`,
      ...checkFeeds,
      `const ys = await forwardAsync(batch, [${g.inputs.map((_, i) => `x${i}!`).join(', ')}]);`,
      `return ${byName};`,
      `}`,
      `const model: Model = {`,
      `predict(x0, batch) {`,
      ...predictBody('forward(batch, [x0])'),
      `},`,
      `async predictAsync(x0, batch) {`,
      ...predictBody('await forwardAsync(batch, [x0])'),
      `},`,
      `run,`,
      `runAsync,`,
      `async getWeightsAsync() {`,
      `await device.settle(P);`,
      `return Promise.all(P.map(async (t, i) => ({ name: parameters[i].name, dtype: 'float32' as const, shape: parameters[i].shape as number[], data: (await device.readAsync(t, sizeOf(parameters[i]))) as Float32Array })));`,
      `},`,
      `ready: () => device.ready(),`,
      `getWeights: () => P.map((t, i) => ({ name: parameters[i].name, dtype: 'float32', shape: parameters[i].shape as number[], data: device.read(t, sizeOf(parameters[i])) as Float32Array })),`,
      `setWeights(weights: WeightsSource) {`,
      `resolveWeights(parameters, weights, 0, identity, options.allowForeignWeights).forEach((a, i) => { device.release(P[i]); P[i] = device.upload(a); });`,
      `},`,
      `get backend() { return device.backend; },`,
      `device,`,
      `params: P,`,
      `destroy: () => device.destroy(),`,
      `exportKernels: (batch: number) => device.exportKernels(graphHash, () => forward(batch, inputs.map((t) => new Float32Array(sizeOf(t) * batch)))),`,
      `};`,
      // A per-sample graph (ONNX batch not first): predict/run take whole batches and loop (runtime/batch-axis.ts).
      g.batchAxes ? `return perSampleModel(model, inputs, outputs);` : `return model;`,
    ],
  });
}
