// `npm run demo`: compile the MNIST CNN, print its summary, and classify the MNIST test set.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadMnist } from '../../runtime/mnist.ts';
import { compileCommand, summaryCommand } from './commands.ts';

interface CompiledCnn {
  createModel(weights?: Uint8Array): { predict(x: Float32Array, batch: number): Float32Array };
}

/** Index of the largest of `n` values starting at `offset`. */
function argmax(values: Float32Array, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}

export async function demo(print: (s: string) => void, options: { model?: string; out?: string; batch?: number } = {}): Promise<number> {
  const model = options.model ?? 'examples/cnn.ts';
  const out = options.out ?? 'build/cnn';
  print(await summaryCommand(model, false));
  print(await compileCommand(model, { backend: 'js', out, seed: 0 }));
  const mod = (await import(pathToFileURL(path.resolve(out, 'cnn.js')).href)) as CompiledCnn;
  const net = mod.createModel(readFileSync(path.join(out, 'cnn.weights.bin')));
  const test = loadMnist('test');
  const batch = options.batch ?? 100;
  let correct = 0;
  const predicted: number[] = [];
  const started = performance.now();
  for (let i = 0; i < test.count; i += batch) {
    const n = Math.min(batch, test.count - i);
    const probs = net.predict(test.images.subarray(i * 784, (i + n) * 784), n);
    for (let j = 0; j < n; j++) {
      const p = argmax(probs, j * 10, 10);
      predicted.push(p);
      if (p === test.labels[i + j]) correct++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  print(`classified ${test.count} MNIST test images in ${seconds.toFixed(2)} s (${Math.round(test.count / seconds)} images/s)`);
  print(`first ten: predicted ${predicted.slice(0, 10).join(' ')} | true ${Array.from(test.labels.subarray(0, 10)).join(' ')}`);
  print(`test accuracy with the initial (untrained, seed 0) weights: ${((100 * correct) / test.count).toFixed(2)} %`);
  return 0;
}
