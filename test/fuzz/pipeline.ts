// The back half every graph mutant goes through: check → compile (JS backend, in memory) → load → run → compare with the interpreter.
import { compileModel, type CompiledModel } from '../../compiler/compile.ts';
import { checkGraph } from '../../compiler/check/check.ts';
import { nodeFlops } from '../../compiler/inspect/summary.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { canonicalJson, graphToJson } from '../../src/ir/json.ts';
import { numel } from '../../src/ir/shape.ts';
import { classifyThrow, compareArrays, failed, pwned, resetPwned, RUNTIME_URL, type Outcome } from './oracle.ts';

/** Mutants that imply more than this are not compiled (the check's own work limits are another helper's job). */
export const WORK_LIMITS = { elements: 2_000_000, flops: 40_000_000, nodes: 5_000 };

type Arr = Float32Array | Float64Array | Int32Array;
interface Info {
  name: string;
  dtype: string;
  shape: readonly (number | 'N')[];
}
interface Emitted {
  inputs: readonly Info[];
  outputs: readonly Info[];
  parameters: readonly Info[];
  createModel(weights?: unknown): { run(feeds: Record<string, unknown>, batch: number): Record<string, unknown>; getWeights(): { name: string; data: Float32Array }[] };
}

/** What a target knows about good input values (a node test's data), by input name. */
export type KnownValues = ReadonlyMap<string, Arr>;

/** Compiled modules by the canonical JSON of their graph (and weights), so repeats are not compiled twice. */
const cache = new Map<string, { compiled: CompiledModel; mod: Emitted }>();
const CACHE_SIZE = 48;

/** The work a graph implies at `batch`: elements of every node and FLOPs by the ops' own rules. */
export function impliedWork(graph: Graph, batch: number): { elements: number; flops: number; nodes: number } {
  const nodes = graphNodes(graph);
  let elements = 0;
  let flops = 0;
  for (const n of nodes) {
    elements += numel(n.type.shape, batch);
    flops += nodeFlops(n) * batch;
  }
  return { elements, flops, nodes: nodes.length };
}

/** A deterministic value stream (a small LCG) so feeds depend only on the case. */
function filler(seed: number): () => number {
  let s = (seed >>> 0) || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function feedFor(info: Info, batch: number, known: KnownValues, next: () => number): Arr | string[] {
  const size = info.shape.reduce<number>((p, d) => p * (d === 'N' ? batch : d), 1);
  const given = known.get(info.name);
  if (given && given.length === size && (info.dtype === 'int32') === given instanceof Int32Array) {
    return info.dtype === 'float64' ? Float64Array.from(given) : info.dtype === 'int32' ? Int32Array.from(given) : Float32Array.from(given);
  }
  if (info.dtype === 'string') return Array.from({ length: size }, (_, i) => `s${i % 3}`);
  if (info.dtype === 'int32') return new Int32Array(size); // index 0 is in range wherever any index is
  const data = info.dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = next() * 2 - 1;
  return data;
}

async function loadModule(js: string): Promise<Emitted> {
  return (await import(/* @vite-ignore */ `data:text/javascript;base64,${Buffer.from(js).toString('base64')}`)) as Emitted;
}

function cacheKey(graph: Graph, weights: Readonly<Record<string, Float32Array>>): string | undefined {
  try {
    const w = Object.keys(weights)
      .sort()
      .map((k) => `${k}:${Array.from(weights[k]).join(',')}`);
    return canonicalJson(graphToJson(graph)) + '\u0000' + w.join(';');
  } catch {
    return undefined; // not representable as JSON (non-finite constants): compile every time
  }
}

/** Runs a checked-or-not graph through the rest of the pipeline and judges the result. */
export async function compileRunCompare(graph: Graph, options: { weights?: Readonly<Record<string, Float32Array>>; known?: KnownValues; seed?: number } = {}): Promise<Outcome> {
  const weights = options.weights ?? {};
  let stage = 'check';
  try {
    checkGraph(graph);
    stage = 'work estimate';
    const hasBatch = graph.inputs.some((n) => n.type.shape[0] === 'N');
    const batch = hasBatch ? 2 : 1;
    const work = impliedWork(graph, batch);
    if (work.elements > WORK_LIMITS.elements || work.flops > WORK_LIMITS.flops || work.nodes > WORK_LIMITS.nodes) {
      return { kind: 'skipped', why: 'implies too much work to compile and interpret here' };
    }
    stage = 'compile';
    resetPwned();
    const key = cacheKey(graph, weights);
    let entry = key === undefined ? undefined : cache.get(key);
    if (!entry) {
      const compiled = compileModel(graph, { initialWeights: weights, runtimeImport: RUNTIME_URL });
      if (pwned()) return failed(stage, 'payload ran while compiling', 'globalThis.__pwned was set');
      stage = 'load';
      entry = { compiled, mod: await loadModule(compiled.js) };
      if (key !== undefined) {
        if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(key, entry);
      }
    }
    if (pwned()) return failed('load', 'payload ran on load', 'globalThis.__pwned was set by loading the module');
    stage = 'createModel';
    const model = entry.mod.createModel(entry.compiled.weights);
    stage = 'run';
    const next = filler(options.seed ?? 1);
    const feeds: Record<string, Arr | string[]> = {};
    for (const info of entry.mod.inputs) Object.defineProperty(feeds, info.name, { value: feedFor(info, batch, options.known ?? new Map(), next), enumerable: true, writable: true, configurable: true });
    const got = model.run(feeds, batch);
    if (pwned()) return failed(stage, 'payload ran in predict', 'globalThis.__pwned was set by run()');
    if ([...entry.mod.inputs, ...entry.mod.outputs].some((i) => i.dtype === 'string')) return { kind: 'skipped', why: 'string tensors (ran; the interpreter works on ids)' };
    stage = 'interpret';
    const refWeights: Record<string, Arr> = Object.create(null);
    for (const t of model.getWeights()) refWeights[t.name] = Object.hasOwn(weights, t.name) ? weights[t.name] : t.data;
    const want = interpret(graph, feeds as Record<string, Arr>, refWeights, batch);
    stage = 'compare';
    for (const o of graph.outputs) {
      const bad = compareArrays(o.name, got[o.name] as ArrayLike<number>, want[o.name]);
      if (bad) return failed(stage, 'compiled result differs from the interpreter', bad);
    }
    return { kind: 'matched' };
  } catch (e) {
    if (pwned()) return failed(stage, 'payload ran', 'globalThis.__pwned was set');
    const o = classifyThrow(stage, e);
    // The interpreter rejecting what compiled and ran is a disagreement, whatever its class.
    if (stage === 'interpret' && o.kind === 'error') return failed(stage, 'the interpreter rejects a model that compiled and ran', o.message);
    return o;
  }
}
