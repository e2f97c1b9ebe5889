// Both cores: a ThreadPool splits large kernels' outermost loop between this thread and a worker
// over shared memory. Results must be bit-identical to the one-thread module, for inference at
// batch sizes that do and do not divide evenly, and for training steps.
import { afterAll, describe, expect, it } from 'vitest';
import { ThreadPool } from '../../runtime/parallel.ts';
import { compileCommand } from '../../cli/commands.ts';
import { freshOutDir, ROOT, randomFloats } from '../e2e/helpers.ts';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface Trainer {
  step(x: Float32Array, y: Int32Array, batch: number): number;
  getWeights(): { name: string; data: Float32Array }[];
}
interface Module {
  createModel(w?: undefined, o?: { pool?: ThreadPool }): { predict(x: Float32Array, batch: number): Float32Array };
  createTrainer(o: { pool?: ThreadPool; seed?: number }): Trainer;
}

// A low threshold, so that even the small kernels of these tests are split.
const pool = new ThreadPool({ threshold: 1 });
afterAll(() => pool.close());

async function compiled(name: string): Promise<Module> {
  const out = freshOutDir(`parallel-${name}`);
  await compileCommand(path.join(ROOT, 'examples', `${name}.ts`), { backend: 'js', out, seed: 4, train: true });
  return (await import(/* @vite-ignore */ pathToFileURL(path.join(out, `${name.replace(/-/g, '_')}.mjs`)).href)) as Module;
}

describe('ThreadPool: kernels split across two threads', () => {
  it.each(['mlp', 'cnn-small'])('%s: predictions identical to one thread at batch 1, 6 and 64', async (name) => {
    const m = await compiled(name);
    const [one, two] = [m.createModel(), m.createModel(undefined, { pool })];
    for (const batch of [1, 6, 64]) {
      const x = randomFloats(batch * 784, batch, 0, 1);
      expect(two.predict(x, batch)).toEqual(one.predict(x, batch));
    }
  });

  it('cnn-small: three training steps identical to one thread (losses and weights)', async () => {
    const m = await compiled('cnn-small');
    const [one, two] = [m.createTrainer({ seed: 1 }), m.createTrainer({ seed: 1, pool })];
    const x = randomFloats(32 * 784, 3, 0, 1);
    const y = Int32Array.from({ length: 32 }, (_, i) => i % 10);
    for (let s = 0; s < 3; s++) expect(two.step(x, y, 32)).toBe(one.step(x, y, 32));
    const [a, b] = [one.getWeights(), two.getWeights()];
    a.forEach((w, i) => expect(b[i].data, w.name).toEqual(w.data));
  });

  it('refuses to split a kernel whose output is not in shared memory', () => {
    const kernel = (_batch: number, out: Float32Array, _a: Float32Array, lo = 0, hi = 64) => out.fill(1, lo, hi);
    const k = pool.bind(import.meta.url, { kernel }, { kernel: { extent: 64, work: () => 1e9 } });
    expect(() => k.kernel(64, new Float32Array(64), new Float32Array(1))).toThrow(/shared memory/);
  });
});
