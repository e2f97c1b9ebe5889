// Cache-blocked SIMD products split across a ThreadPool: each wasm instance (this thread's, the
// worker's) packs W into a scratch region of its own (runtime/simd.ts reserves one per instance,
// sized by the module's kiln.scratch section), so the two halves of a call must neither overlap
// nor differ. Outputs must be bit-identical to one thread, and within the float32 bound of the
// float64 reference interpreter, with both halves on the packed path (≥ MIN_ROWS rows each) and
// with one half on the plain tiles.
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MIN_ROWS } from '../../compiler/codegen/wasm/simd-blocked.ts';
import { ThreadPool } from '../../runtime/parallel.ts';
import { BLOCKED, emitToFile, feedsAndReference, worstError } from './simd-edge-cases.ts';

// Thresholds of 1: every kernel splits, whatever its size.
const pool = new ThreadPool({ threshold: 1, simdThreshold: 1 });
afterAll(() => pool.close());

type Model = { run: (f: object, b: number) => Record<string, Float32Array>; memory?: object };

describe('cache-blocked SIMD products on two threads', () => {
  // 2·MIN_ROWS + 3: both halves packed; 2·MIN_ROWS − 5: halves of 13 and 14 rows, plain tiles; MIN_ROWS + 9: one packed half.
  for (const batch of [2 * MIN_ROWS + 3, 2 * MIN_ROWS - 5, MIN_ROWS + 9]) {
    it(`batch ${batch}: identical to one thread and within float32 of the interpreter`, async () => {
      const { file } = emitToFile(`blocked_threads_${batch}`, BLOCKED);
      const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { createModel: (w?: object, o?: object) => Model };
      const { feeds, want } = feedsAndReference(BLOCKED, batch);
      const one = mod.createModel({}).run(feeds, batch);
      const model = mod.createModel({}, { pool });
      expect(!!model.memory, 'SIMD memory in use').toBe(true);
      const two = model.run(feeds, batch);
      for (const c of BLOCKED) {
        expect(two[c.name], c.name).toEqual(one[c.name]);
        expect(worstError(two[c.name], want[c.name], 1e-4, 1e-4), c.name).toBeLessThanOrEqual(1);
      }
    });
  }
});
