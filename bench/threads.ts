// Where splitting a kernel across two threads starts to pay: one dense layer (x·W + b, ReLU) at
// growing sizes, each timed on one thread and split with a ThreadPool (thresholds 1, so every
// call splits), with its JavaScript kernel and with its WebAssembly SIMD kernel. The smallest
// work at which the split is faster gives ThreadPool's default thresholds (runtime/parallel.ts).
// Usage: npx tsx bench/threads.ts
import Benchmark from 'benchmark';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileModel } from '../compiler/compile.ts';
import { ThreadPool } from '../runtime/parallel.ts';
import { layers, sequential } from '../src/index.ts';

interface Emitted {
  createModel(w?: undefined, o?: { pool?: ThreadPool; simd?: boolean }): { predict(x: Float32Array, batch: number): Float32Array };
}

async function denseModule(inputs: number, units: number): Promise<Emitted> {
  const model = sequential({ name: `dense_${inputs}_${units}`, input: [inputs] }, [layers.dense(units, { activation: 'relu' })]);
  const dir = path.resolve('build/bench-threads');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${model.graph.name}.mjs`);
  writeFileSync(file, compileModel(model.graph, { seed: 1 }).js);
  return (await import(pathToFileURL(file).href)) as Emitted;
}

const hz = (name: string, f: () => void): number => {
  const b = new Benchmark(name, f, { minSamples: 20, maxTime: 1 });
  b.run();
  return b.hz;
};

const pool = new ThreadPool({ threshold: 1, simdThreshold: 1 });
const batch = 64;
console.log('| kernel | multiply-adds per call | one thread (calls/s) | two threads (calls/s) | speed-up |');
console.log('|---|---:|---:|---:|---:|');
for (const simd of [false, true]) {
  for (const [inputs, units] of [[16, 16], [32, 32], [64, 32], [64, 64], [128, 64], [128, 128], [256, 128], [256, 256], [512, 256], [784, 256]]) {
    const m = await denseModule(inputs, units);
    const x = Float32Array.from({ length: batch * inputs }, (_, i) => Math.sin(i));
    const [one, two] = [m.createModel(undefined, { simd }), m.createModel(undefined, { pool, simd })];
    const a = hz('one', () => one.predict(x, batch));
    const b = hz('two', () => two.predict(x, batch));
    console.log(`| ${simd ? 'SIMD' : 'JavaScript'} | ${(batch * inputs * units).toLocaleString('en-US')} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(b / a).toFixed(2)}× |`);
  }
}
await pool.close();
