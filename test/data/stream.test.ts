// The streaming loader: an .npy file larger than the chunk cache is read in chunks (bytes held bounded,
// chunks re-read), row for row equal to the file's values, and training through it equals training in memory.
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../../cli/train.ts';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { npyRows } from '../../cli/data/user-arrays.ts';
import { rowsSource, arrayRows } from '../../runtime/data/rows.ts';
import { layers, sequential } from '../../src/index.ts';
import { freshOutDir } from '../e2e/helpers.ts';
import { f32Bytes, npyFile, put, tempDir } from './files.ts';

const ROWS = 2000;
const WIDTH = 16;
/** Values a hand formula gives for row r, column c (independent of any reader). */
const value = (r: number, c: number) => Math.fround(Math.sin(r * 0.37 + c * 1.3) * 2);

function writeX(dir: string): string {
  const values = Float32Array.from({ length: ROWS * WIDTH }, (_, i) => value(Math.floor(i / WIDTH), i % WIDTH));
  return put(dir, 'x.npy', npyFile('<f4', [ROWS, WIDTH], f32Bytes(values)));
}

describe('npyRows (chunked .npy reader)', () => {
  it('reads every row right in a shuffled order while holding at most the cache limit', () => {
    const file = writeX(tempDir('stream'));
    const cacheBytes = 16 * 1024;
    const { rows } = npyRows(file, { chunkBytes: 4 * 1024, cacheBytes });
    expect(statSync(file).size).toBeGreaterThan(4 * cacheBytes);
    const out = new Float32Array(WIDTH);
    let maxHeld = 0;
    // A fixed permutation: stride 7919 (prime, coprime with 2000) visits every row once.
    for (let k = 0; k < ROWS; k++) {
      const r = (k * 7919) % ROWS;
      rows.readRow(r, out, 0);
      for (let c = 0; c < WIDTH; c++) expect(out[c]).toBe(value(r, c));
      maxHeld = Math.max(maxHeld, rows.bytesHeld);
    }
    expect(maxHeld).toBeLessThanOrEqual(cacheBytes);
    // Out-of-order reads evict chunks and read them again: more bytes than the file's data.
    expect(rows.bytesRead).toBeGreaterThan(ROWS * WIDTH * 4);
    rows.close();
  });

  it('trains the same weights through the chunked reader as from memory (same seed, same shuffles)', async () => {
    const dir = tempDir('stream-train');
    const file = writeX(dir);
    const labels = Int32Array.from({ length: ROWS }, (_, r) => (value(r, 0) > 0 ? 1 : 0) + (value(r, 1) > 0 ? 2 : 0));
    const m = sequential({ name: 'stream_mlp', input: [WIDTH] }, [layers.dense(8, { activation: 'relu' }), layers.dense(4)]);
    const loss = resolveLoss(m.graph, 'auto');
    const training = { loss, optimizer: resolveOptimizer('sgd', 0.05) };
    const a = await compileTrainer(m.graph, training, freshOutDir('data-stream-a'), 7);
    const b = await compileTrainer(m.graph, training, freshOutDir('data-stream-b'), 7);
    const x = Float32Array.from({ length: ROWS * WIDTH }, (_, i) => value(Math.floor(i / WIDTH), i % WIDTH));
    a.trainer.fit({ x, y: labels, count: ROWS }, { epochs: 2, batchSize: 32, seed: 11 });
    const { rows } = npyRows(file, { chunkBytes: 4 * 1024, cacheBytes: 16 * 1024 });
    b.trainer.fit(rowsSource(rows, arrayRows(labels, 1), { classIds: true }), { epochs: 2, batchSize: 32, seed: 11 });
    expect(rows.bytesHeld).toBeLessThanOrEqual(16 * 1024);
    expect(Buffer.from(b.trainer.save()).equals(Buffer.from(a.trainer.save()))).toBe(true);
    rows.close();
  }, 60_000);
});
