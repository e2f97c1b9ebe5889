// The cache-blocked path of the SIMD products (compiler/codegen/wasm/simd-blocked.ts) against the
// float64 reference interpreter: reductions of one block, one block and one step, whole blocks and
// three and a bit; column panels with and without a tail of 1–7 columns; calls just below and at
// MIN_ROWS rows (below: the plain tiles), 4-row tiles with single rows left over; a transposed
// splatted operand; an epilogue (bias, ReLU) that must run once, after the last block.
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { KC, MIN_ROWS, NC } from '../../compiler/codegen/wasm/simd-blocked.ts';
import { makeNode } from '../../src/ir/build.ts';
import { emitToFile, feedsAndReference, worstError, type EdgeCase } from './simd-edge-cases.ts';

/** float32 sums of up to 769 products of values in [-1, 1) against float64. */
const RTOL = 1e-4;
const ATOL = 1e-4;

/** Products whose packed operand is at least 512 KiB (where blocking starts), sizes at each block edge. */
export const BLOCKED: EdgeCase[] = [
  // One block short of KC, 2 panels + a partial one of 8 columns, no column tail.
  { name: 'k255_m520', shapes: [['N', KC - 1], [KC - 1, 2 * NC + 8]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  // KC + 1: a last block of one step; 2 panels and a 1-column tail.
  { name: 'k257_m513', shapes: [['N', KC + 1], [KC + 1, 2 * NC + 1]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  // Two whole blocks, one whole panel and a 7-column tail, with bias and ReLU after the last block.
  { name: 'dense_k512_m263', shapes: [['N', 2 * KC], [2 * KC, NC + 7], [NC + 7]], build: ([x, w, b]) => makeNode('relu', [makeNode('add', [makeNode('matmul', [x, w]), b])]) },
  // Three blocks and one step (odd k), a partial panel of 168 columns and a 3-column tail.
  { name: 'k769_m171', shapes: [['N', 3 * KC + 1], [3 * KC + 1, 171]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  // A transposed splatted operand with a fixed number of rows (19: four 4-row tiles and 3 single rows).
  { name: 'xt_k257_m513', shapes: [[KC + 1, 19], [KC + 1, 2 * NC + 1]], build: ([x, w]) => makeNode('matmul', [x, w], { transA: true }) },
];

describe('cache-blocked SIMD products agree with the interpreter', () => {
  it('every case takes the blocked path', () => {
    const { program } = emitToFile('blocked_plan', BLOCKED);
    const matmuls = program.kernels.filter((k) => k.ops[0] === 'matmul');
    expect(matmuls.length).toBe(BLOCKED.length);
    for (const k of matmuls) expect(renderSimdKernel(k)?.how, k.name).toMatch(/Blocked for the cache/);
  });

  for (const batch of [MIN_ROWS - 1, MIN_ROWS, MIN_ROWS + 3]) {
    it(`${batch} rows a call (${batch < MIN_ROWS ? 'plain tiles' : 'packed panels'}), SIMD on and off`, async () => {
      const { file } = emitToFile(`blocked_${batch}`, BLOCKED);
      const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { createModel: (w?: object, o?: object) => { run: (f: object, b: number) => Record<string, Float32Array>; memory?: object } };
      const { feeds, want } = feedsAndReference(BLOCKED, batch);
      for (const simd of [true, false]) {
        const model = mod.createModel({}, { simd });
        expect(!!model.memory, 'SIMD memory in use').toBe(simd);
        const got = model.run(feeds, batch);
        for (const c of BLOCKED) expect(worstError(got[c.name], want[c.name], RTOL, ATOL), `${c.name}, simd ${simd}`).toBeLessThanOrEqual(1);
      }
    });
  }
});
