// The JavaScript backend's `Model` and `createModel`: the planned program's kernel calls over
// buffers allocated once, with input checks and string tensors converted at the boundary.
import type { ModuleText } from '../writer.ts';
import { ARRAY_NAME } from '../../../src/ir/dtype.ts';
import type { GraphOutput } from '../../../src/ir/graph.ts';
import type { Node } from '../../../src/ir/node.ts';
import { commentSafe, stringLiteral } from '../../codegen/names.ts';
import type { Program } from '../../lower/plan.ts';
import { identityLiteral, withoutWeights, type EmitOptions } from '../common.ts';
import { addManifest } from '../manifest.ts';
import { indexCheck, indexInputs } from '../index-checks.ts';
import { poolSetup } from './pool.ts';
import { programParts } from './program-parts.ts';
import { MODEL_KERNELS } from '../kernel-failure.ts';
import { BATCH } from '../../../src/ir/shape.ts';
import { MIN_ROWS } from '../../codegen/wasm/simd-blocked.ts';
import type { ModelPrepack } from './simd-table.ts';

/** A trainer's way in to its module's model (emitted with a trainer only): see addCreateModel. */
export const OPEN_MODEL = 'openModel';
const OPENED_MODEL = '{ model: Model; weights: readonly Float32Array[]; weightsWritten: () => void; }';

/** `Model` and `createModel`: the planned program over buffers allocated once, grown only for a larger batch. */
export function addCreateModel(f: ModuleText, p: Program, o: EmitOptions, hasSimd: boolean, prepacks: readonly ModelPrepack[] = []) {
  const g = p.graph;
  // What the module is and where each kernel came from, for tools (kiln inspect on a module).
  addManifest(f, p, o, 'js');
  const arrayOf = (n: Node) => ARRAY_NAME[n.type.dtype];
  const { declarations: buffers, reserve, statements, slice: outputSlice } = programParts(p);
  const feedArgs = g.inputs.map((n, i) => `x${i}: ${arrayOf(n)}`).join(', ');
  const first = g.outputs[0];
  // String tensors cross the boundary as arrays of strings and are ids inside (stringDictionary).
  const sb = g.strings;
  const isStringInput = (n: Node) => sb?.inputs.includes(String(n.attrs.name)) ?? false;
  const isStringOutput = (out: GraphOutput) => sb?.outputs.includes(out.name) ?? false;
  const feedType = (n: Node) => (isStringInput(n) ? 'readonly string[]' : arrayOf(n));
  const resultType = (out: GraphOutput) => (isStringOutput(out) ? 'string[]' : arrayOf(out.node));
  const result = (out: GraphOutput) => (isStringOutput(out) ? `dictionary.lookup(${outputSlice(out.node)})` : outputSlice(out.node));
  const arrays = 'Float32Array | Float64Array | Int32Array';
  const feedsType = `Readonly<Record<string, ${arrays}${sb ? ' | readonly string[]' : ''}>>`;
  const limits = indexInputs(g);
  const feed = (n: Node, i: number) => {
    const name = stringLiteral(String(n.attrs.name));
    if (!isStringInput(n)) return [`const x${i} = feed(feeds, ${name}) as ${arrayOf(n)};`, `checkInput(inputs[${i}], x${i}, batch);`, ...indexCheck(limits, i, `x${i}`)].join('\n');
    return `const s${i} = feed(feeds, ${name}) as readonly string[];\ncheckInput(inputs[${i}], s${i}, batch);\nconst x${i} = dictionary.intern(s${i});`;
  };
  const inputArray = g.inputs.length ? feedType(g.inputs[0]) : 'Float32Array';
  const weightsArg = o.inlineWeights ? 'weights ?? fromBase64(inlineWeights)' : 'weights';
  const packing = prepackStatements(p, hasSimd ? prepacks : []);
  f.addInterface({
    name: 'Model',
    isExported: true,
    docs: ['A compiled model instance: its buffers are allocated once and grow only for a larger batch.'],
    properties: [
      { name: 'predict', type: `(input: ${inputArray}, batch: number) => ${resultType(first)}`, docs: [`Runs the model on \`batch\` samples of its first input; returns output '${commentSafe(first.name)}' (a fresh array).`] },
      { name: 'run', type: `(feeds: ${feedsType}, batch: number) => Record<string, ${arrays}${sb ? ' | string[]' : ''}>`, docs: ['Runs the model on named inputs; returns every output by name.'] },
      { name: 'getWeights', type: '() => WeightTensor[]', docs: ['A copy of the weights, ready for `encodeWeights`.'] },
      // The asynchronous API every backend shares (GPU.js on WebGPU has only that one).
      { name: 'predictAsync', type: `(input: ${inputArray}, batch: number) => Promise<${resultType(first)}>`, docs: ['`predict`, as a Promise (the same API as the GPU.js backend on WebGPU).'] },
      { name: 'runAsync', type: `(feeds: ${feedsType}, batch: number) => Promise<Record<string, ${arrays}${sb ? ' | string[]' : ''}>>`, docs: ['`run`, as a Promise.'] },
      { name: 'getWeightsAsync', type: '() => Promise<WeightTensor[]>', docs: ['`getWeights`, as a Promise.'] },
      { name: 'weightArrays', type: 'readonly Float32Array[]', docs: ['The live weight arrays, in `parameters` order (a trainer updates them in place).'] },
      { name: 'memory', type: 'SimdMemory | undefined', docs: ['The WebAssembly memory its weights and buffers live in when SIMD kernels run (a trainer allocates there too).'] },
    ],
  });
  const docs = [
    `Creates a model from a weight file's path (Node: read into the model's memory, no buffer holding the whole file), its bytes, or arrays by name; without weights, ${withoutWeights(o)}. ` +
      'A weight file must be this model\'s (the same graph or model name) unless `allowForeignWeights`.',
  ];
  const parameters = [
    { name: 'weights', type: 'WeightsSource', hasQuestionToken: true },
    { name: 'options', type: '{ seed?: number; pool?: ThreadPool; simd?: boolean; allowForeignWeights?: boolean; }', initializer: '{}' },
  ];
  // With a trainer, the model is built by openModel, which also hands the trainer the live weights
  // and a way to say it wrote them: taking `weightArrays` instead would make every later predict
  // repack (its holder may write at any time), while the trainer writes only in step and load.
  const opened = !!o.training;
  if (opened) {
    f.addFunction({ name: 'createModel', isExported: true, docs, parameters, returnType: 'Model', statements: [`return ${OPEN_MODEL}(weights, options).model;`] });
  }
  f.addFunction({
    name: opened ? OPEN_MODEL : 'createModel',
    isExported: !opened,
    docs: opened ? ['`createModel`, with what a trainer of this module needs: the live weights, and `weightsWritten` to call after writing them.'] : docs,
    parameters,
    returnType: opened ? OPENED_MODEL : 'Model',
    statements: [
      ...poolSetup('options.pool', { hasKernels: hasSimd, enabled: 'options.simd' }, 'model'),
      // Each weight is copied once, from the file's bytes straight into the model's memory.
      `const w = resolveWeights(parameters, ${weightsArg}, options.seed ?? defaultSeed, ${identityLiteral(o)}, options.allowForeignWeights, alloc${packing.room});`,
      ...p.params.map((_, i) => `const p${i} = w[${i}];`),
      ...packing.declarations,
      `let capacity = 0;`,
      ...buffers,
      `/** Grows the batch-sized buffers when a larger batch than any before arrives. */`,
      `function reserve(batch: number): void {`,
      `if (batch <= capacity) return;`,
      `capacity = batch;`,
      ...reserve,
      `}`,
      `function forward(batch: number${feedArgs ? ', ' + feedArgs : ''}): void {`,
      `reserve(batch);`,
      ...packing.call,
      // An error inside kernel kN (in a loop body too) is rethrown naming kN and its layers.
      ...statements(MODEL_KERNELS, 0, !!o.profile),
      `}`,
      `function run(feeds: ${feedsType}, batch: number) {`,
      ...(sb ? [`const dictionary = stringDictionary();`] : []),
      ...g.inputs.map(feed),
      `forward(batch${g.inputs.map((_, i) => `, x${i}`).join('')});`,
      // Computed keys: a plain "__proto__" key would set the prototype instead of a property.
      `return { ${g.outputs.map((out) => `[${stringLiteral(out.name)}]: ${result(out)}`).join(', ')} };`,
      `}`,
      `const model: Model = {`,
      `predict(x0: ${inputArray}, batch: number): ${resultType(first)} {`,
      ...(g.inputs.length !== 1
        ? [`throw new Error(${stringLiteral(`model '${g.name}' has ${g.inputs.length} inputs: use run()`)});`]
        : sb
          ? [`return run({ [${stringLiteral(String(g.inputs[0].attrs.name))}]: x0 }, batch)[${stringLiteral(first.name)}] as ${resultType(first)};`]
          : [`checkInput(inputs[0], x0, batch);`, ...indexCheck(limits, 0, 'x0'), `forward(batch, x0);`, `return ${outputSlice(first.node)};`]),
      `},`,
      `run,`,
      `getWeights: () => snapshotWeights(parameters, w),`,
      packing.declarations.length ? `get weightArrays() {\nweightsShared = true;\nreturn w;\n},` : `weightArrays: w,`,
      `memory: simd?.memory,`,
      `predictAsync: async (x0: ${inputArray}, batch: number) => model.predict(x0, batch),`,
      `runAsync: async (feeds: ${feedsType}, batch: number) => run(feeds, batch),`,
      `getWeightsAsync: async () => snapshotWeights(parameters, w),`,
      `};`,
      // A per-sample graph (ONNX batch not first): predict/run take whole batches and loop
      // (runtime/batch-axis.ts). A trainer's model is batch-first: addDescriptions refuses the rest.
      opened ? `return { model, weights: w, weightsWritten: ${packing.written} };` : g.batchAxes ? `return perSampleModel(model, inputs, outputs);` : `return model;`,
    ],
  });
}

/**
 * The packed copies of blocked weights (simd-blocked.ts's Prepack) that the model's SIMD kernels
 * read: room for each beside its parameter, and `packWeights(batch)`, run before the kernels, which
 * makes a copy on the first call that takes the blocked path and again whenever the weights may
 * have changed. The Model's writers are its creation, its module's trainer (which says when it
 * wrote: `written`) and `weightArrays`: the live arrays, which any caller may write at any moment
 * after taking them, so once they are handed out every blocked call repacks.
 */
function prepackStatements(p: Program, prepacks: readonly ModelPrepack[]): { room: string; declarations: string[]; call: string[]; written: string } {
  if (!prepacks.length) return { room: '', declarations: [], call: [], written: '() => undefined' };
  const room = p.params.map((n) => prepacks.find((m) => m.param === n)?.prepack.room ?? 0);
  const packers = prepacks.filter((m) => m.packs);
  const ref = (m: (typeof prepacks)[number]) => `p${p.params.indexOf(m.param)}`;
  const lines = packers.map((m, i) => {
    // A call of fewer than MIN_ROWS rows runs the plain tiles, which read W itself.
    const rows = m.kernel.shape[0] === BATCH ? ` && batch >= ${MIN_ROWS}` : '';
    return `if ((!packed[${i}] || weightsShared)${rows}) {\nsimd.exports.${m.kernel.name}_pack(${ref(m)}.byteOffset);\npacked[${i}] = true;\n}`;
  });
  return {
    room: `, simd ? [${room.join(', ')}] : []`,
    declarations: [
      `// Copies of ${packers.map(ref).join(', ')} packed for the blocked SIMD products, beside each (made once per weight set).`,
      `const packed = [${packers.map(() => 'false').join(', ')}];`,
      `/** Set once \`weightArrays\` is handed out: its holder may write the weights at any time. */`,
      `let weightsShared = false;`,
      `/** Packs each copy that is missing or may be stale, for a call of \`batch\` rows. */`,
      `function packWeights(batch: number): void {`,
      `if (!simd) return;`,
      ...lines,
      `}`,
    ],
    call: [`packWeights(batch);`],
    // What a trainer calls after writing the weights: every copy is made again at its next use.
    written: '() => packed.fill(false)',
  };
}
