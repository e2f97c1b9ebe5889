// onnxruntime-node, CPU execution provider, one intra-op thread (inference only), on the ONNX files
// that bench/run.ts built with the same weights.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { load, main, sample, spec, version as pkgVersion } from './common.mjs';

const version = pkgVersion('onnxruntime-node');
const options = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
const session = (name) => ort.InferenceSession.create(readFileSync(path.join(spec.dir, `${name}.onnx`)), options);
const xAll = load('x').data;

await main({ name: 'onnxruntime', version }, async (w) => {
  if (w.kind === 'train') return 'onnxruntime-node runs inference only (no training step)';
  if (w.kind === 'matmul') {
    const s = await session(`mm${w.n}`);
    const feeds = { a: new ort.Tensor('float32', load(`mmA${w.n}`).data, [w.n, w.n]), b: new ort.Tensor('float32', load(`mmB${w.n}`).data, [w.n, w.n]) };
    const call = async () => (await s.run(feeds)).c.data;
    return { check: async () => sample(await call()), run: async () => (await call())[0], dispose: () => s.release() };
  }
  const s = await session(w.model);
  if (spec.tensors[`${w.model}.x`]) {
    // The sequence models: exported by Kiln's own exporter (src/onnx/export.ts), inputs of their own.
    const { data, shape } = load(`${w.model}.x`);
    const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', data, shape) };
    const call = async () => (await s.run(feeds))[s.outputNames[0]].data;
    return { check: async () => sample(await call()), run: async () => (await call())[0], dispose: () => s.release() };
  }
  const shape = w.model === 'mlp' ? [w.batch, 784] : [w.batch, 28, 28, 1];
  const feeds = { x: new ort.Tensor('float32', xAll.slice(0, w.batch * 784), shape) };
  const call = async () => (await s.run(feeds)).y.data;
  return { check: async () => sample(await call()), run: async () => (await call())[0], dispose: () => s.release() };
});
