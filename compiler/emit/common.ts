// What both backends' emitters share: options, header, tensor descriptions, runtime entries.
// Each backend (emit/js/, emit/gpujs/) opens a module here, adds its own createModel and
// createTrainer, and closes it here (formatted TypeScript and its JavaScript).
import { ARRAY_NAME } from '../../src/ir/dtype.ts';
import { constantData } from '../../src/ir/constant.ts';
import { KilnError, UnsupportedError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { BATCH, formatShape } from '../../src/ir/shape.ts';
import type { StringBoundary } from '../../src/onnx/strings.ts';
import { RUNTIME_CONTRACT } from '../../runtime/contract.ts';
import { COMPILER_VERSION } from '../../src/version.ts';
import { literal } from '../codegen/js.ts';
import { commentSafe, stringLiteral } from '../codegen/names.ts';
import type { Program } from '../lower/plan.ts';
import type { TrainingGraph } from '../train/step.ts';
import { kernelsJs, moduleJs } from './javascript.ts';
import { ModuleText } from './writer.ts';

/** The code generators a module can be emitted for. */
export type Backend = 'js' | 'gpujs';

/** A compiled training step: the training graph as built, its two programs and the default learning rate. */
export interface TrainingEmit extends TrainingGraph {
  /** The training graph (`graph`) compiled. */
  readonly program: Program;
  /** Forward (inference form) + loss (`evalGraph` compiled), for `evaluate`. */
  readonly evalProgram: Program;
  /** The learning rate compiled in as the default. */
  readonly lr: number;
}

export interface EmitOptions {
  /** Module specifier of Kiln's runtime as the emitted module should import it. */
  runtimeImport?: string;
  /** Seed of the initialisers used when `createModel()` gets no weights. */
  seed?: number;
  /** A weight file to embed (base64) so `createModel()` needs no sidecar. */
  inlineWeights?: Uint8Array;
  graphHash: string;
  /** Where the model came from, for the header (e.g. `examples/cnn.ts`). */
  sourceName?: string;
  /** A compiled training step: adds `createTrainer`. */
  training?: TrainingEmit;
  /**
   * The file the parameters' values came from when no initialiser reproduces them (an ONNX
   * model's initializers): `createModel()` without weights then throws instead of using zeros.
   */
  weightsFrom?: string;
  /** Time every kernel call into an exported `kernelTimes` table (js backend; `kiln profile`). */
  profile?: boolean;
  /** With `training` (js backend): also emit the inference-only module (`EmittedModule.inference`). */
  inferenceModule?: boolean;
}

export interface EmittedModule {
  readonly ts: string;
  readonly js: string;
  /** The declaration file of the JavaScript (`<name>.d.mts`): every export's type, nothing else. */
  readonly dts: string;
  /**
   * With a trainer and `inferenceModule` (js backend): the inference-only module
   * (`<name>.inference.mjs`), what the same compile emits without training; it loads none of the
   * training step's code.
   */
  readonly inference?: EmittedModule;
}

/** The runtime's module specifier the emitted module imports. */
export const runtimeImport = (o: EmitOptions): string => o.runtimeImport ?? 'kiln/runtime';

/** Another entry of the runtime beside the one a module imports: `kiln/runtime` → `kiln/runtime/<entry>`. */
export function runtimeEntry(runtime: string, entry: string): string {
  return /\/index\.[jt]s$/.test(runtime) ? runtime.replace(/index(\.[jt]s)$/, `${entry}$1`) : `${runtime}/${entry}`;
}

/** A fresh module that starts with the module's header. */
export function openModule(p: Program, o: EmitOptions, backend: Backend): ModuleText {
  return new ModuleText(header(p, o, backend));
}

/**
 * Kernel functions kept out of the transpiled text: the module holds an empty placeholder function
 * where they go, and closeModule splices them into its TypeScript and, made JavaScript by
 * kernelsJs (javascript.ts), into its JavaScript. Why: they are most of a module's text (about 170 KB of a CNN's
 * 185 KB with its trainer), and their rendering is already formatted TypeScript.
 */
export interface KernelBlocks {
  readonly texts: string[];
}

/** A statement to add where `kernels` (rendered function declarations, in order) go. */
export function kernelPlaceholder(blocks: KernelBlocks, kernels: readonly string[]): string {
  // Function declarations are separated by a blank line, as the writer separates functions.
  blocks.texts.push(kernels.join('\n\n'));
  return `function __kilnKernels${blocks.texts.length - 1}__() {}`;
}

/** `text` with the (written, or printed) placeholder function `i` replaced by `by`. */
function splice(text: string, i: number, by: string): string {
  const m = new RegExp(`function __kilnKernels${i}__\\(\\) \\{ ?\\}`).exec(text);
  if (!m) throw new KilnError(`internal: kernel placeholder ${i} is missing from the emitted module`);
  return text.slice(0, m.index) + by + text.slice(m.index + m[0].length);
}

/**
 * `text` (a module, formatted or transpiled) with the names in `unused` left out of its named
 * imports. Each import of the emitter's is one line; none of them loses every name.
 */
function withoutImports(text: string, unused: ReadonlySet<string>): string {
  if (!unused.size) return text;
  return text.replace(/^import (type )?\{ ([^}\n]*) \} from ([^;\n]+);$/gm, (_, type: string | undefined, names: string, from: string) => {
    const kept = names.split(', ').filter((n) => !unused.has(n));
    if (!kept.length) throw new KilnError(`internal: every name of an import from ${from} is unused`);
    return `import ${type ?? ''}{ ${kept.join(', ')} } from ${from};`;
  });
}

/**
 * The module's TypeScript source (written formatted: writer.ts) and its JavaScript (types
 * stripped: javascript.ts), kernels spliced in, without the imported names in `unusedImports`.
 */
export function closeModule(f: ModuleText, blocks: KernelBlocks = { texts: [] }, unusedImports: ReadonlySet<string> = new Set()): Pick<EmittedModule, 'ts' | 'js'> {
  let text = withoutImports(f.getFullText(), unusedImports);
  const made = moduleJs(withoutImports(f.getJsCandidate(), unusedImports), text);
  let js = made.js;
  blocks.texts.forEach((k, i) => {
    text = splice(text, i, k);
    js = splice(js, i, kernelsJs(k, made.transpiled));
  });
  return { ts: text, js };
}

/** What the module's metadata calls a value's element type: `string` for a string tensor. */
const elementType = (n: Node, isString = false) => (isString ? 'string' : n.type.dtype);

// `axis`: a per-sample graph's batch axis for this tensor (Graph.batchAxes): 'N' goes there, as the user feeds it.
const tensorInfo = (n: Node, name: string, isString = false, axis: number | null = null) =>
  `{ name: ${stringLiteral(name)}, dtype: '${elementType(n, isString)}', shape: [${n.type.shape.map((d, i) => (d === BATCH || i === axis ? "'N'" : d)).join(', ')}] }`;

/** The doc comment the module starts with: compiler version, backend, model, graph hash, inputs and outputs. */
export function header(p: Program, o: EmitOptions, backend: Backend = 'js'): string {
  const g = p.graph;
  const sb = g.strings;
  return [
    `/**`,
    ` * Generated by Kiln ${COMPILER_VERSION} (backend: ${backend}). Do not edit: recompile the model instead.`,
    ` * Model: ${commentSafe(g.name)}${o.sourceName ? ` (from ${commentSafe(o.sourceName)})` : ''}`,
    ` * Graph hash: sha256:${o.graphHash}`,
    ...g.inputs.map((n) => ` * Input  ${commentSafe(String(n.attrs.name))}: ${elementType(n, sb?.inputs.includes(String(n.attrs.name)))}${formatShape(n.type.shape)}`),
    ...g.outputs.map((out) => ` * Output ${commentSafe(out.name)}: ${elementType(out.node, sb?.outputs.includes(out.name))}${formatShape(out.node.type.shape)}`),
    ` * ${p.kernels.length} kernels, ${p.buffers.length} planned buffers; every shape is a literal except the batch size N.`,
    ...(g.batchAxes ? [` * Compiled for one sample: the batch lies on axis ${[...new Set([...g.batchAxes.inputs, ...g.batchAxes.outputs].filter((a) => a !== null))].join(' / ')} of the shapes above (1 there), and predict/run loop over it.`] : []),
    ` */`,
  ].join('\n');
}

/** The exported constants every module has: names, hash, inputs, outputs, parameters; constants. */
export function addDescriptions(f: ModuleText, p: Program, o: EmitOptions, backend: Backend = 'js') {
  const g = p.graph;
  const sb = g.strings;
  if (sb && (backend !== 'js' || o.training)) {
    throw new UnsupportedError(`model '${g.name}' has string tensors: only the js backend's inference module converts them at its boundary`);
  }
  if (g.batchAxes && o.training) {
    throw new UnsupportedError(`model '${g.name}' has its batch on an axis other than the first (compiled per sample): only inference modules loop over such a batch; export the model batch-first to train it`);
  }
  // First of all the module's code: a kiln/runtime from another Kiln is refused here, in one line.
  f.addStatements([`// The runtime contract this module was compiled for (runtime/contract.ts).`, `checkRuntime(${RUNTIME_CONTRACT});`]);
  const paramInfo = p.params.map((n) => {
    const base = tensorInfo(n, String(n.attrs.name)).slice(0, -2);
    return `${base}, init: ${jsonLiteral(n.attrs.init)}, trainable: ${n.attrs.trainable !== false} }`;
  });
  const consts: [string, string][] = [
    ['modelName', stringLiteral(g.name)],
    ['compilerVersion', stringLiteral(COMPILER_VERSION)],
    ['graphHash', stringLiteral(o.graphHash)],
    ['backend', `'${backend}' as const`],
    ['defaultSeed', String(o.seed ?? 0)],
  ];
  for (const [name, init] of consts) f.addVariableStatement({ isExported: true, declarations: [{ name, initializer: init }] });
  f.addVariableStatements([
    { isExported: true, declarations: [{ name: 'inputs', type: 'readonly TensorInfo[]', initializer: `[${g.inputs.map((n, i) => tensorInfo(n, String(n.attrs.name), sb?.inputs.includes(String(n.attrs.name)), g.batchAxes?.inputs[i])).join(', ')}]` }], docs: ['The model inputs: names, dtypes and shapes (`N` is the batch size).'] },
    { isExported: true, declarations: [{ name: 'outputs', type: 'readonly TensorInfo[]', initializer: `[${g.outputs.map((out, k) => tensorInfo(out.node, out.name, sb?.outputs.includes(out.name), g.batchAxes?.outputs[k])).join(', ')}]` }] },
    { isExported: true, declarations: [{ name: 'parameters', type: 'readonly ParameterInfo[]', initializer: `[\n${paramInfo.join(',\n')}]` }], docs: ['Parameters in weight-file order, with the initialiser used when no weights are given.'] },
  ]);
  p.consts.forEach((n, i) => {
    f.addVariableStatement({ declarations: [{ name: `c${i}`, initializer: `new ${ARRAY_NAME[n.type.dtype]}([${Array.from(constantData(n), literal).join(', ')}])` }] });
  });
  if (sb) addStringDictionary(f, sb);
  if (o.inlineWeights) {
    f.addVariableStatement({ declarations: [{ name: 'inlineWeights', initializer: stringLiteral(Buffer.from(o.inlineWeights).toString('base64')) }], docs: ['The weight file, embedded at compile time (base64).'] });
  }
}

/** The strings of the model's constants, and the per-call dictionary `run` interns string inputs into (js backend only: see addDescriptions). */
function addStringDictionary(f: ModuleText, sb: StringBoundary) {
  const table = sb.table.map((s) => stringLiteral(s));
  f.addVariableStatement({ declarations: [{ name: 'strings', type: 'readonly string[]', initializer: `[${table.join(', ')}]` }], docs: ["The strings of the model's string constants: a string's id is its position here."] });
  f.addFunction({
    name: 'stringDictionary',
    docs: ['A dictionary for one call: constants keep their ids and each new string gets the next one, so equal strings get equal ids in every input.'],
    statements: [
      `const table = [...strings];`,
      `const ids = new Map<string, number>();`,
      `table.forEach((s, i) => ids.set(s, i));`,
      `return {`,
      `intern: (values: readonly string[]) => Int32Array.from(values, (s) => ids.get(s) ?? (ids.set(s, table.length), table.push(s) - 1)),`,
      `lookup: (values: ArrayLike<number>) => Array.from(values, (id) => table[id]),`,
      `};`,
    ],
  });
}

/** What `createModel()` does without weights, for its doc comment. */
export const withoutWeights = (o: EmitOptions) =>
  o.inlineWeights ? 'from the weights embedded in this module' : o.weightsFrom !== undefined ? `an error (they come from ${commentSafe(o.weightsFrom)})` : 'initialises fresh ones from `seed`';

/** The module's ModelIdentity (runtime/weights-identity.ts) as source text. */
export const identityLiteral = (o: EmitOptions) => `{ name: modelName, graphHash${o.weightsFrom !== undefined ? `, weightsFrom: ${stringLiteral(o.weightsFrom)}` : ''} }`;

/** A JSON value (an initialiser's description) as source, spaced as TypeScript's formatter spaces it: `{ "kind": "zeros" }`. */
function jsonLiteral(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : jsonLiteral(x))).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    return entries.length ? `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${jsonLiteral(x)}`).join(', ')} }` : '{}';
  }
  return JSON.stringify(v) ?? 'undefined';
}

const stateInfo = (n: Node) =>
  `{ name: ${stringLiteral(String(n.attrs.name))}, dtype: '${n.type.dtype}', shape: [${n.type.shape.join(', ')}], init: { kind: 'zeros' }, trainable: false }`;

/** The exported `stateParameters` and `labelInfo` of a module with a trainer (either backend). */
export function addTrainingDescriptions(f: ModuleText, t: TrainingEmit) {
  const labels = t.program.graph.inputs[t.program.graph.inputs.length - 4];
  f.addVariableStatement({
    isExported: true,
    docs: ['Optimizer state, saved with the weights so training resumes where it stopped.'],
    declarations: [{ name: 'stateParameters', type: 'readonly ParameterInfo[]', initializer: `[\n${t.state.map(stateInfo).join(',\n')}]` }],
  });
  f.addVariableStatement({
    isExported: true,
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
