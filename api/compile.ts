// compile(): a model compiled in this process and imported from memory, as Keras's model.compile():
// no files, no build step; the module is the one `kiln compile` would write, with the same API.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainingSpec } from '../compiler/train/step.ts';
import { isModel, type Model } from '../src/dsl/model.ts';
import { KilnError } from '../src/ir/errors.ts';
import type { Graph } from '../src/ir/graph.ts';
import { resolveTrainLoss } from './loss.ts';
import type { CompileApiOptions, CompiledModule, TrainableModule, TrainOptions } from './types.ts';

/** This file's extension: `.ts` from source (vitest, tsx), `.js` in dist/ (the package). */
const OWN_EXT = path.extname(fileURLToPath(import.meta.url));

/**
 * The runtime the in-memory module imports, as an absolute file URL: this package's own compiled
 * runtime (dist/runtime/index.js beside dist/api/), whatever the consumer's node_modules holds or
 * whether it is an ES module or CommonJS project. Node imports the module natively (a data: URL),
 * so from source (vitest, tsx) it is the build in dist/ too: Node 20 cannot load the .ts files.
 * `index`, not `index-node`: the emitter derives `…/gpujs.js` and `…/node.js` from `…/index.js`.
 */
function runtimeUrl(): URL {
  const url = new URL(OWN_EXT === '.js' ? '../runtime/index.js' : '../dist/runtime/index.js', import.meta.url);
  const file = fileURLToPath(url);
  if (!existsSync(file)) throw new KilnError(`compile() needs Kiln's built runtime (${file} is missing: run npm run build in ${path.dirname(path.dirname(path.dirname(file)))})`);
  return url;
}

const BACKENDS = ['js', 'gpujs'] as const;

/** The compiler's training spec from the API's options. */
function trainingSpec(graph: Graph, t: TrainOptions): TrainingSpec {
  if (typeof t !== 'object' || t === null || typeof t.optimizer !== 'object' || t.optimizer === null) {
    throw new KilnError("compile(): train needs an optimizer, e.g. { optimizer: { kind: 'adam', lr: 1e-3 } }");
  }
  // Clipping is an optimizer setting in the compiler (OptimizerSpec.clipNorm); beside it, it would be dropped.
  if (t.clipNorm !== undefined && t.optimizer.clipNorm !== undefined && t.clipNorm !== t.optimizer.clipNorm) {
    throw new KilnError(`compile(): train.clipNorm (${t.clipNorm}) and train.optimizer.clipNorm (${t.optimizer.clipNorm}) differ: give one`);
  }
  const optimizer = t.clipNorm === undefined ? t.optimizer : { ...t.optimizer, clipNorm: t.clipNorm };
  return { optimizer, loss: resolveTrainLoss(graph, t.loss ?? 'auto', t.fromLogits) };
}

/**
 * The emitted JavaScript imported from a data: URL. It first imports the runtime's Node entry,
 * for its side effect in the same runtime instance: weight files read by path (and version 1
 * files checked with zlib's native CRC-32). `sourceURL` names the module in stack traces instead of the whole URL.
 */
async function importFromMemory(js: string, name: string, runtime: URL): Promise<Record<string, unknown>> {
  const source = `import ${JSON.stringify(new URL('index-node.js', runtime).href)};\n${js}\n//# sourceURL=kiln-compiled:${encodeURIComponent(name)}.mjs\n`;
  return (await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`)) as Record<string, unknown>;
}

/**
 * Compiles `model` (from `sequential()` or `model()`) into a module held in memory: the same
 * `createModel` (and with `train`, `createTrainer`) as `kiln compile`'s `.mjs`, its initial
 * weights, and its JavaScript and declarations. The module imports this package's runtime.
 */
export async function compile(model: Model, options: CompileApiOptions & { train: TrainOptions }): Promise<TrainableModule>;
export async function compile(model: Model, options?: CompileApiOptions): Promise<CompiledModule>;
export async function compile(model: Model, options: CompileApiOptions = {}): Promise<CompiledModule | TrainableModule> {
  if (!isModel(model)) throw new KilnError('compile(): the first argument must be a model made with model() or sequential()');
  const backend = options.backend ?? 'js';
  if (!(BACKENDS as readonly string[]).includes(backend)) throw new KilnError(`compile(): unknown backend '${String(backend)}' (available: ${BACKENDS.join(', ')})`);
  const training = options.train === undefined ? undefined : trainingSpec(model.graph, options.train);
  const runtime = runtimeUrl();
  // Loaded here, not at the top: `import … from 'kiln'` in a model file stays as light as the DSL.
  const { compileModel } = await import('../compiler/compile.ts');
  const c = compileModel(model.graph, {
    seed: options.seed ?? 0,
    backend,
    training,
    runtimeImport: runtime.href,
    initialWeights: model.weights,
    limits: options.limits,
  });
  const exports = await importFromMemory(c.js, c.name, runtime);
  return Object.freeze({ ...exports, weights: c.weights, js: c.js, dts: c.dts }) as unknown as CompiledModule | TrainableModule;
}
