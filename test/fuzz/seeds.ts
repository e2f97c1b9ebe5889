// Seed inputs for the fuzzers: ONNX node tests read from ../shared at run time, and the examples (graphs, ONNX exports, weight files).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileModel, parameterInfo } from '../../compiler/compile.ts';
import { initWeights } from '../../runtime/model-io.ts';
import { graphParams, type Graph } from '../../src/ir/graph.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { decodeMessage, onnx } from '../../src/onnx/proto.ts';
import { decodeTensor, toKilnArray, type TensorValue } from '../../src/onnx/tensor.ts';
import { RUNTIME_URL } from './oracle.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The ONNX backend node tests (never copied into this repository). */
export const NODE_TESTS = path.resolve(ROOT, '..', 'shared', 'onnx-node-tests');

/** Varied, small node tests: convolution, products, pooling, gather, views, softmax, norms, recurrences, slicing, reductions. */
export const NODE_TEST_SEEDS = [
  'test_conv_with_strides_padding',
  'test_gemm_all_attributes',
  'test_matmul_3d',
  'test_maxpool_2d_precomputed_pads',
  'test_averagepool_2d_precomputed_pads_count_include_pad',
  'test_gather_0',
  'test_reshape_reordered_all_dims',
  'test_transpose_all_permutations_3',
  'test_softmax_axis_1',
  'test_batchnorm_example',
  'test_lstm_defaults',
  'test_gru_defaults',
  'test_concat_3d_axis_0',
  'test_slice',
  'test_reduce_sum_keepdims_random',
  'test_flatten_axis1',
] as const;

/** The examples the fuzzers use: small enough to interpret in a fraction of a second. */
export const EXAMPLE_SEEDS = ['mlp', 'cnn-small', 'lenet'] as const;

/** One ONNX seed: its bytes, and for node tests the test data's inputs (values to specialise on and feed). */
export interface OnnxSeed {
  name: string;
  bytes: Uint8Array;
  inputValues: Record<string, TensorValue>;
  known: Map<string, Float32Array | Float64Array | Int32Array>;
}

export interface ExampleSeed {
  name: string;
  graph: Graph;
  /** The example's initial weights by parameter name. */
  weights: Record<string, Float32Array>;
}

function readNodeTest(name: string): OnnxSeed {
  const dir = path.join(NODE_TESTS, name);
  const bytes = new Uint8Array(readFileSync(path.join(dir, 'model.onnx')));
  const model = onnx.ModelProto.decode(bytes);
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  const names = (model.graph?.input ?? []).map((v) => v.name ?? '').filter((n) => !inits.has(n));
  const inputValues: Record<string, TensorValue> = {};
  const known = new Map<string, Float32Array | Float64Array | Int32Array>();
  names.forEach((n, i) => {
    const file = path.join(dir, 'test_data_set_0', `input_${i}.pb`);
    if (!existsSync(file)) return;
    const t = decodeTensor(decodeMessage(file, readFileSync(file), (b) => onnx.TensorProto.decode(b)), file);
    inputValues[n] = t;
    known.set(n, toKilnArray(t, file).data);
  });
  return { name, bytes, inputValues, known };
}

let examples: Promise<ExampleSeed[]> | undefined;
/** The example models with seeded initial weights (loaded once per process). */
export function exampleSeeds(): Promise<ExampleSeed[]> {
  examples ??= (async () => {
    const out: ExampleSeed[] = [];
    for (const name of EXAMPLE_SEEDS) {
      const mod = (await import(/* @vite-ignore */ `../../examples/${name}.ts`)) as { default: { graph: Graph } };
      const graph = mod.default.graph;
      const params = parameterInfo(graphParams(graph));
      const arrays = initWeights(params, 0);
      out.push({ name, graph, weights: Object.fromEntries(params.map((p, i) => [p.name, arrays[i]])) });
    }
    return out;
  })();
  return examples;
}

let onnxSeeds: Promise<OnnxSeed[]> | undefined;
/** Every ONNX seed: the node tests present under ../shared and the examples exported to ONNX. */
export function allOnnxSeeds(): Promise<OnnxSeed[]> {
  onnxSeeds ??= (async () => {
    const nodeTests = existsSync(NODE_TESTS) ? NODE_TEST_SEEDS.filter((n) => existsSync(path.join(NODE_TESTS, n, 'model.onnx'))).map(readNodeTest) : [];
    const exported = (await exampleSeeds()).map((e) => ({ name: `examples/${e.name}.ts (exported)`, bytes: exportOnnx(e.graph, e.weights), inputValues: {}, known: new Map() }));
    return [...nodeTests, ...exported];
  })();
  return onnxSeeds;
}

/** A compiled example: its emitted JavaScript and a valid weight file, for the weight-file fuzzer. */
export interface CompiledExample {
  name: string;
  js: string;
  weights: Uint8Array;
  parameters: { name: string; shape: number[] }[];
}

let compiled: Promise<CompiledExample[]> | undefined;
export function compiledExamples(): Promise<CompiledExample[]> {
  compiled ??= (async () =>
    (await exampleSeeds()).map((e) => {
      const c = compileModel(e.graph, { runtimeImport: RUNTIME_URL, initialWeights: e.weights });
      return { name: e.name, js: c.js, weights: c.weights, parameters: c.program.params.map((p) => ({ name: String(p.attrs.name), shape: p.type.shape as number[] })) };
    }))();
  return compiled;
}
