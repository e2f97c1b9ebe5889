// The compiler's front door: a model in, an emitted module and its initial weight file out.
import { initWeights, type ParameterInfo } from '../runtime/model-io.ts';
import { encodeWeights } from '../runtime/weights.ts';
import { KilnError } from '../src/ir/errors.ts';
import type { Graph } from '../src/ir/graph.ts';
import { withLimits, type Limits } from '../src/ir/limits.ts';
import type { Node } from '../src/ir/node.ts';
import type { Program } from './lower/plan.ts';
import { emitterFor, type Backend, type TrainingEmit } from './emit/emit.ts';
import { standaloneModule } from './emit/standalone.ts';
import { graphHash } from './inspect/hash.ts';
import { compileGraph } from './pipeline.ts';
import { unrollScans } from './passes/unroll-scans.ts';
import { buildTrainingGraph, type TrainingSpec } from './train/step.ts';

export interface CompileOptions {
  /** Initialiser seed for the sidecar weights and for `createModel()` without weights. */
  seed?: number;
  /** Embed the weights in the module instead of (as well as) the sidecar file. */
  inlineWeights?: boolean;
  runtimeImport?: string;
  sourceName?: string;
  /** Also compile a training step (adds `createTrainer` to the module). */
  training?: TrainingSpec;
  /** Values for some parameters (an imported model's), used instead of their initialisers. */
  initialWeights?: Readonly<Record<string, Float32Array>>;
  /** Code generator: JavaScript loops (default) or GPU.js kernels. */
  backend?: Backend;
  /** Limits past which the model is refused (memory at batch 1, FLOPs, nodes); unset ones keep those in force. */
  limits?: Partial<Limits>;
  /** Told each stage as it starts (the CLI shows them on a terminal); compiling is synchronous. */
  onStage?: (stage: string) => void;
  /**
   * A module that imports nothing (gpujs: only `gpu.js`): the runtime functions it calls are
   * bundled into it (esbuild, tree-shaken) and the runtime types into its declarations.
   */
  standalone?: boolean;
  /** Time every kernel call into the module's exported `kernelTimes` (both backends; GPU.js in its cpu and webasm modes only; `kiln profile`). */
  profile?: boolean;
  /** With `training` (js backend): also emit the inference-only module, `inference` (what `kiln compile --train` writes as `<name>.inference.mjs`). */
  inferenceModule?: boolean;
}

export interface CompiledModel {
  readonly name: string;
  readonly program: Program;
  /** The module's TypeScript source (imports Kiln's runtime, even for a standalone module). */
  readonly ts: string;
  /** The module's JavaScript, an ES module (written as `<name>.mjs`). */
  readonly js: string;
  /** Its declarations (written as `<name>.d.mts`). */
  readonly dts: string;
  /** The initial weights as a Kiln weight file. */
  readonly weights: Uint8Array;
  readonly graphHash: string;
  /** With a trainer and `inferenceModule` (js backend): the inference-only module (written as `<name>.inference.mjs`), the same as a compile without training. */
  readonly inference?: { readonly ts: string; readonly js: string; readonly dts: string };
}

export function parameterInfo(params: readonly Node[]): ParameterInfo[] {
  return params.map((n) => ({
    name: String(n.attrs.name),
    dtype: n.type.dtype,
    shape: n.type.shape,
    init: n.attrs.init as ParameterInfo['init'],
    trainable: n.attrs.trainable !== false,
  }));
}

export function compileModel(graph: Graph, options: CompileOptions = {}): CompiledModel {
  return withLimits(options.limits, () => compileWithin(graph, options));
}

function compileWithin(graph: Graph, options: CompileOptions): CompiledModel {
  if (options.standalone && (options.runtimeImport ?? 'kiln/runtime') !== 'kiln/runtime') throw new KilnError("--standalone bundles Kiln's own runtime into the module: --runtime-import does not apply");
  const seed = options.seed ?? 0;
  const hash = graphHash(graph);
  // GPU.js has no host loop: scans are unrolled for it (compiler/passes/unroll-scans.ts).
  const forBackend = (g: Graph): Graph => (options.backend === 'gpujs' ? unrollScans(g) : g);
  const { program } = compileGraph(forBackend(graph));
  options.onStage?.(`compiling ${program.kernels.length} kernels`);
  const params = parameterInfo(program.params);
  const given = options.initialWeights ?? {};
  const arrays = initWeights(params, seed).map((fresh, i) => (Object.hasOwn(given, params[i].name) ? given[params[i].name] : fresh));
  const weights = encodeWeights(
    params.map((p, i) => ({ name: p.name, dtype: 'float32', shape: p.shape as number[], data: arrays[i] })),
    { model: graph.name, graphHash: hash, seed },
  );
  let training: TrainingEmit | undefined;
  if (options.training) {
    options.onStage?.('building the training step');
    const t = buildTrainingGraph(graph, options.training);
    const compiled = compileGraph(forBackend(t.graph), 't');
    const evaluation = compileGraph(forBackend(t.evalGraph), 'e');
    training = { ...t, program: compiled.program, evalProgram: evaluation.program, lr: options.training.optimizer.lr };
  }
  const emit = emitterFor(options.backend);
  options.onStage?.('emitting the module');
  const emitted = emit(program, {
    training,
    graphHash: hash,
    seed,
    runtimeImport: options.runtimeImport,
    sourceName: options.sourceName,
    inlineWeights: options.inlineWeights ? weights : undefined,
    // Values that came with the model (an ONNX file's initializers): no initialiser makes them.
    weightsFrom: params.some((p) => Object.hasOwn(given, p.name)) ? (options.sourceName ?? `${graph.name}.onnx`) : undefined,
    profile: options.profile,
    inferenceModule: options.inferenceModule,
  });
  const { ts, js, dts } = options.standalone ? standaloneModule(emitted, options.backend ?? 'js') : emitted;
  const inference = emitted.inference && (options.standalone ? standaloneModule(emitted.inference, options.backend ?? 'js') : emitted.inference);
  return { name: graph.name, program, ts, js, dts, weights, graphHash: hash, ...(inference ? { inference: { ts: inference.ts, js: inference.js, dts: inference.dts } } : {}) };
}
