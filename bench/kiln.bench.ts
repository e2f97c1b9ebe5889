// Kiln's own throughput on the workloads of ../shared/PEERS.md, measured with `benchmark`:
// MLP 784-256-10 inference (batch 1/64/1024) and Adam training step (batch 64), the MNIST CNN's
// inference and training step (batch 64). Kiln alone, on MNIST images; the cross-engine benchmark
// against the peers is bench/run.ts (`npm run bench`). Usage: npx tsx bench/kiln.bench.ts [--quick]
import Benchmark from 'benchmark';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileModel } from '../compiler/compile.ts';
import { loadMnist } from '../runtime/mnist.ts';
import type { Model } from '../src/dsl/model.ts';

interface Emitted {
  createModel(): { predict(x: Float32Array, batch: number): Float32Array };
  createTrainer(o: { seed: number }): { step(x: Float32Array, y: Int32Array, batch: number): number };
}

const quick = process.argv.includes('--quick');

async function emit(name: string): Promise<Emitted> {
  const model = (await import(`../examples/${name}.ts`)).default as Model;
  const output = model.graph.outputs[0].node.op;
  const compiled = compileModel(model.graph, {
    seed: 1,
    training: { loss: { kind: 'sparseCategoricalCrossEntropy', fromLogits: output !== 'softmax' }, optimizer: { kind: 'adam', lr: 1e-3 } },
  });
  const dir = path.resolve('build/bench');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.mjs`);
  writeFileSync(file, compiled.js);
  return (await import(pathToFileURL(file).href)) as Emitted;
}

function run(suite: Benchmark.Suite): Promise<void> {
  return new Promise((resolve) => {
    suite
      .on('cycle', (e: Benchmark.Event) => {
        const b = e.target;
        const perSecond = b.hz ?? 0;
        const batch = batches.get(String(b.name)) ?? 1;
        const samples = Math.round(perSecond * batch).toLocaleString('en-US');
        console.log(`${String(b.name).padEnd(28)} ${perSecond.toFixed(1).padStart(9)} calls/s ±${(b.stats?.rme ?? 0).toFixed(1)}%, ${samples} samples/s`);
      })
      .on('complete', () => resolve())
      .run();
  });
}

const data = loadMnist('train', { limit: 1024 });
const options = { minSamples: quick ? 5 : 20, maxTime: quick ? 1 : 5 };
const suite = new Benchmark.Suite();
const batches = new Map<string, number>();
const add = (name: string, batch: number, fn: () => void) => {
  batches.set(name, batch);
  suite.add(name, fn, options);
};

const mlp = await emit('mlp256');
const cnn = await emit('cnn');
const mlpModel = mlp.createModel();
const cnnModel = cnn.createModel();
const mlpTrainer = mlp.createTrainer({ seed: 1 });
const cnnTrainer = cnn.createTrainer({ seed: 1 });
const images = (batch: number) => data.images.subarray(0, batch * 784);
const labels = (batch: number) => data.labels.subarray(0, batch);
for (const batch of [1, 64, 1024]) add(`MLP 784-256-10 infer b${batch}`, batch, () => mlpModel.predict(images(batch), batch));
add('MLP 784-256-10 train b64', 64, () => mlpTrainer.step(images(64), labels(64), 64));
add('CNN infer b64', 64, () => cnnModel.predict(images(64), 64));
add('CNN train b64', 64, () => cnnTrainer.step(images(64), labels(64), 64));
await run(suite);
