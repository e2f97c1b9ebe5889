// The CLI's commands as functions that return text, so tests can call them without a process.
import path from 'node:path';
import { checkGraph } from '../compiler/check/check.ts';
import { compileModel } from '../compiler/compile.ts';
import { inferenceFiles, moduleFiles } from '../compiler/emit/files.ts';
import { DEFAULT_SUMMARY_BATCH, formatSummary, summarize } from '../compiler/inspect/summary.ts';
import { formatMemory, memoryPlan } from '../compiler/inspect/memory.ts';
import { PASSES, compileGraph, optimize } from '../compiler/pipeline.ts';
import { simdListing } from '../compiler/codegen/wasm/simd-kernel.ts';
import { modelSimdLookup } from '../compiler/emit/js/simd-table.ts';
import { renderJsKernel } from '../compiler/codegen/js-kernel.ts';
import { renderWgslKernel, wgslListing } from '../compiler/codegen/wgsl/kernel.ts';
import { describeOps } from '../compiler/lower/kernel.ts';
import { checkWritableFolder, writeFileAtomicSync } from '../runtime/atomic-write.ts';
import { KilnError } from '../src/ir/errors.ts';
import { graphToJson } from '../src/ir/json.ts';
import { printGraph } from '../src/ir/print.ts';
import { loadModel } from './load.ts';
import { fileStem } from './names.ts';
import { resolveLoss, resolveOptimizer, type OptimizerFlags } from './training-spec.ts';

export { checkCommand, checkModel, formatCheckReport, type CheckReport } from './check.ts';
import { buildTrainingGraph } from '../compiler/train/step.ts';
import { describeBatchAxes } from '../src/ir/print.ts';

/** `kiln compile`'s options; with --train, the optimizer settings' flags too (OptimizerFlags). */
export interface CompileCliOptions extends OptimizerFlags {
  backend: string;
  out: string;
  seed: number;
  inlineWeights?: boolean;
  runtimeImport?: string;
  /** Also compile a training step (`createTrainer`), with this optimizer and loss. */
  train?: boolean;
  optimizer?: string;
  lr?: number;
  momentum?: number;
  loss?: string;
  fromLogits?: boolean;
  /** Bundle the runtime into the module: it imports nothing (gpujs: only gpu.js). */
  standalone?: boolean;
}

/** What `kiln compile` did (its `--json` output, less `ok` and `command`). */
export interface CompileReport {
  readonly model: string;
  readonly backend: string;
  readonly train: boolean;
  readonly ms: number;
  readonly kernels: number;
  readonly buffers: number;
  readonly files: { readonly js: string; readonly dts: string; readonly weights: string; readonly inference?: string; readonly inferenceDts?: string };
  /** An ONNX model whose batch is not first: where it lies (the module loops over it). */
  readonly batchAxes?: string;
}

/** Compiles `file` into `o.out`; `onStage` hears each stage as it starts (loading, checking, compiling, writing). */
export async function compileFiles(file: string, o: CompileCliOptions, onStage: (stage: string) => void = () => {}): Promise<CompileReport> {
  if (o.backend !== 'js' && o.backend !== 'gpujs') throw new KilnError(`unknown backend '${o.backend}' (available: js, gpujs)`);
  onStage(`loading ${file}`);
  const { graph, weights: initialWeights } = await loadModel(file);
  onStage('checking');
  const started = performance.now();
  const training = o.train
    ? { loss: resolveLoss(graph, o.loss ?? 'auto', o.fromLogits), optimizer: resolveOptimizer(o.optimizer ?? 'adam', o.lr ?? 1e-3, o) }
    : undefined;
  const c = compileModel(graph, { seed: o.seed, inlineWeights: o.inlineWeights, runtimeImport: o.runtimeImport, sourceName: path.relative(process.cwd(), path.resolve(file)), training, initialWeights, backend: o.backend, onStage, standalone: o.standalone, inferenceModule: true });
  const ms = performance.now() - started;
  onStage('writing');
  checkWritableFolder(o.out);
  const stem = fileStem(c.name);
  const names = moduleFiles(stem);
  const files = { js: path.join(o.out, names.js), dts: path.join(o.out, names.dts), weights: path.join(o.out, names.weights) };
  writeFileAtomicSync(files.js, c.js);
  writeFileAtomicSync(files.dts, c.dts);
  writeFileAtomicSync(files.weights, c.weights);
  // With --train, the inference-only module beside it (an application that only predicts starts faster).
  const inference = c.inference ? writeInference(o.out, stem, c.inference) : {};
  const batchAxes = describeBatchAxes(graph);
  return { model: c.name, backend: o.backend, train: !!o.train, ms: Math.round(ms), kernels: c.program.kernels.length, buffers: c.program.buffers.length, files: { ...files, ...inference }, ...(batchAxes ? { batchAxes } : {}) };
}

/** Writes a trainer's inference-only module and its declarations into `out`; returns their paths. */
function writeInference(out: string, stem: string, m: { readonly js: string; readonly dts: string }): { inference: string; inferenceDts: string } {
  const names = inferenceFiles(stem);
  const written = { inference: path.join(out, names.js), inferenceDts: path.join(out, names.dts) };
  writeFileAtomicSync(written.inference, m.js);
  writeFileAtomicSync(written.inferenceDts, m.dts);
  return written;
}

export function formatCompileReport(r: CompileReport): string {
  return [`compiled ${r.model} in ${r.ms.toFixed(0)} ms: ${r.kernels} kernels, ${r.buffers} buffers`, ...(r.batchAxes ? [`  ${r.batchAxes}`] : []), ...Object.values(r.files).map((f) => `  wrote ${f}`)].join('\n');
}

export async function compileCommand(file: string, o: CompileCliOptions): Promise<string> {
  return formatCompileReport(await compileFiles(file, o));
}

/** What `kiln summary` is asked for besides the model: batch of its memory figures, optimizer of `--train`. */
export interface SummaryOptions {
  batch?: number;
  optimizer?: string;
}

export async function summaryCommand(file: string, json: boolean, train = false, o: SummaryOptions = {}): Promise<string> {
  if (o.batch !== undefined && !(Number.isInteger(o.batch) && o.batch >= 1)) throw new KilnError(`--batch must be a positive integer, got ${o.batch}`);
  const optimizer = o.optimizer ?? 'adam';
  const { graph } = await loadModel(file);
  // A per-sample model (ONNX batch not first) holds one sample's buffers whatever the batch: its figures are at 1.
  const batch = o.batch ?? (graph.batchAxes ? 1 : DEFAULT_SUMMARY_BATCH);
  const s = summarize(checkGraph(graph));
  const memory = memoryPlan(compileGraph(graph).program);
  // The training step's plan: the optimizer's state counts as parameters, the backward pass's kept activations as live results.
  const training = train ? memoryPlan(compileGraph(buildTrainingGraph(graph, { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer(optimizer, 1e-3) }).graph, 't').program) : undefined;
  const batchAxes = describeBatchAxes(graph);
  if (json) return JSON.stringify({ ...s, batch, memory, ...(training ? { optimizer, training } : {}), ...(batchAxes ? { batchAxes } : {}) }, null, 2);
  const trainLines = training ? [`Training step (${optimizer}, parameters and optimizer state together):`, ...formatMemory(training, batch).map((l) => `  ${l}`)] : [];
  return [formatSummary(s, batch), ...(batchAxes ? [batchAxes[0].toUpperCase() + batchAxes.slice(1) + '.'] : []), ...formatMemory(memory, batch), ...trainLines].join('\n');
}

export type IrStage = 'input' | 'optimized' | 'kernels' | 'wasm' | 'wgsl' | 'json';

/** The IR at a stage: as written, after a named pass (or all), or as lowered kernels. */
export async function irCommand(file: string, stage: string, after?: string): Promise<string> {
  const { graph } = await loadModel(file);
  if (after) {
    if (!PASSES.some((p) => p.name === after)) throw new KilnError(`unknown pass '${after}' (passes: ${PASSES.map((p) => p.name).join(', ')})`);
    let text = '';
    optimize(graph, (name, g) => {
      if (name === after) text = printGraph(g);
    });
    return text;
  }
  switch (stage) {
    case 'input':
      return printGraph(graph);
    case 'optimized':
      return printGraph(optimize(graph));
    case 'json':
      return JSON.stringify(graphToJson(graph), null, 2);
    case 'kernels': {
      const { program } = compileGraph(graph);
      return program.kernels.map(renderJsKernel).join('\n\n');
    }
    case 'wasm': {
      // The kernels that have WebAssembly SIMD versions, as text; the others run as JavaScript.
      const { program } = compileGraph(graph);
      // As the inference module runs them: products over a parameter read its copy packed once per weight set.
      const simdOf = modelSimdLookup(program.kernels);
      const listed = program.kernels.map((k) => [k, simdOf(k)] as const);
      const simd = listed.flatMap(([k, s]) => (s ? [simdListing(k, s)] : []));
      const js = listed.filter(([, s]) => !s).map(([k]) => k.name);
      return [...simd, `;; JavaScript only: ${js.length ? js.join(', ') : 'none'}`].join('\n\n');
    }
    case 'wgsl': {
      // The contraction kernels as WebGPU compute shaders (compiler/codegen/wgsl); the others are not.
      const { program } = compileGraph(graph);
      const listed = program.kernels.map((k) => [k, renderWgslKernel(k)] as const);
      const wgsl = listed.flatMap(([, w]) => (w ? [wgslListing(w)] : []));
      const rest = listed.filter(([, w]) => !w).map(([k]) => k.name);
      return [...wgsl, `// Not rendered as WGSL: ${rest.length ? rest.join(', ') : 'none'}`].join('\n\n');
    }
    default:
      throw new KilnError(`unknown stage '${stage}' (input, optimized, kernels, wasm, wgsl, json)`);
  }
}

/** The fusion groups: which ops each kernel computes, and what it reads and writes. */
export async function fusionCommand(file: string): Promise<string> {
  const { graph } = await loadModel(file);
  const { program } = compileGraph(graph);
  return program.kernels
    .map((k) => `${k.name.padEnd(4)} ${describeOps(k).padEnd(32)} ${k.dtype}[${k.shape.join(', ')}]  ${k.layers.join(', ')}`)
    .join('\n');
}
