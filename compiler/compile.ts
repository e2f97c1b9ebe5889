// The compiler's front door: a model in, an emitted module and its initial weight file out.
import { initWeights, type ParameterInfo } from '../runtime/model-io.ts';
import { encodeWeights } from '../runtime/weights.ts';
import type { Graph } from '../src/ir/graph.ts';
import type { Node } from '../src/ir/node.ts';
import type { Program } from './lower/plan.ts';
import { emitJsModule } from './emit/module.ts';
import { graphHash } from './inspect/hash.ts';
import { compileGraph } from './pipeline.ts';

export interface CompileOptions {
  /** Initialiser seed for the sidecar weights and for `createModel()` without weights. */
  seed?: number;
  /** Embed the weights in the module instead of (as well as) the sidecar file. */
  inlineWeights?: boolean;
  runtimeImport?: string;
  sourceName?: string;
}

export interface CompiledModel {
  readonly name: string;
  readonly program: Program;
  readonly ts: string;
  readonly js: string;
  /** The initial weights as a Kiln weight file. */
  readonly weights: Uint8Array;
  readonly graphHash: string;
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
  const seed = options.seed ?? 0;
  const hash = graphHash(graph);
  const { program } = compileGraph(graph);
  const params = parameterInfo(program.params);
  const arrays = initWeights(params, seed);
  const weights = encodeWeights(
    params.map((p, i) => ({ name: p.name, dtype: 'float32', shape: p.shape as number[], data: arrays[i] })),
    { model: graph.name, graphHash: hash, seed },
  );
  const { ts, js } = emitJsModule(program, {
    graphHash: hash,
    seed,
    runtimeImport: options.runtimeImport,
    sourceName: options.sourceName,
    inlineWeights: options.inlineWeights ? weights : undefined,
  });
  return { name: graph.name, program, ts, js, weights, graphHash: hash };
}
