// Products over a W of 512 KiB or more whose rows are 2 KiB or more apart, in calls of fewer rows
// than cache blocking takes (compiler/codegen/wasm/simd-chunked.ts): the reduction runs in chunks
// of CHUNK steps with the partial sums kept in the output. Each output must still be the float32
// sum of its products in order k = 0, 1, …, each product and each sum rounded to float32 (what a
// plain-SIMD lane computes), so the kernels are checked bit for bit against that loop written out
// naively, with reductions of one chunk and a step, several chunks and a part, column strips of
// 16, 8 and 4 and a partial vector, 4-row tiles with single rows left over, a transposed splatted
// operand, and a bias-ReLU epilogue that must run once, after the last chunk.
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ThreadPool } from '../../runtime/parallel.ts';
import { makeNode } from '../../src/ir/build.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { CHUNK } from '../../compiler/codegen/wasm/simd-chunked.ts';
import { MIN_ROWS } from '../../compiler/codegen/wasm/simd-blocked.ts';
import { emitToFile, feedsAndReference, runRelaxed, worstError, type EdgeCase } from './simd-edge-cases.ts';

// Thresholds of 1: every kernel splits its rows between this thread and a worker.
const pool = new ThreadPool({ threshold: 1, simdThreshold: 1 });
afterAll(() => pool.close());

const dense = ([x, w, b]: import('../../src/ir/node.ts').Node[]) => makeNode('relu', [makeNode('add', [makeNode('matmul', [x, w]), b])]);

const CASES: EdgeCase[] = [
  // W 514 KiB, rows 7520 bytes apart; 4 chunks and 6 steps; 117 strips of 16 and one of 8.
  { name: 'xw_k70_m1880', shapes: [['N', 4 * CHUNK + 6], [4 * CHUNK + 6, 1880]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  // W 516 KiB, rows 16 KiB apart; 2 chunks and a step; strips of 16, one of 4, then 2 lanes; bias and ReLU.
  { name: 'dense_k33_m4006', shapes: [['N', 2 * CHUNK + 1], [2 * CHUNK + 1, 4006], [4006]], build: dense },
  // A transposed splatted operand with a fixed 13 rows (three 4-row tiles and a single row).
  { name: 'xt_k40_m3300', shapes: [[40, 13], [40, 3300]], build: ([x, w]) => makeNode('matmul', [x, w], { transA: true }) },
  // Not chunked: one chunk's steps; rows 1 KiB apart; W under 512 KiB (the LSTM's product, in L2).
  { name: 'xw_k16_m8192', shapes: [['N', CHUNK], [CHUNK, 8192]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  { name: 'xw_k64_m256', shapes: [['N', 64], [64, 256]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  { name: 'xw_k192_m512', shapes: [['N', 192], [192, 512]], build: ([x, w]) => makeNode('matmul', [x, w]) },
];
const CHUNKED = new Set(['xw_k70_m1880', 'dense_k33_m4006', 'xt_k40_m3300']);

/** [x, W, b?] of a case at `batch`, as the naive loop reads them: x row-major [rows, k] (xt's transposed back). */
function operands(c: EdgeCase, feeds: Record<string, Float32Array>, batch: number): { x: (i: number, k: number) => number; w: Float32Array; b?: Float32Array; rows: number; k: number; m: number } {
  const [w, b] = [feeds[`${c.name}_x1`], feeds[`${c.name}_x2`]];
  const x = feeds[`${c.name}_x0`];
  const [k, m] = [Number(c.shapes[1][0]), Number(c.shapes[1][1])];
  if (c.name.startsWith('xt_')) {
    const rows = Number(c.shapes[0][1]);
    return { x: (i, r) => x[r * rows + i], w, rows, k, m };
  }
  return { x: (i, r) => x[i * k + r], w, b, rows: batch, k, m };
}

/** The sums as a plain-SIMD lane forms them: Math.fround after each multiply and each add, k ascending; then + b and ReLU. */
function float32Loop(c: EdgeCase, feeds: Record<string, Float32Array>, batch: number): Float32Array {
  const { x, w, b, rows, k, m } = operands(c, feeds, batch);
  const out = new Float32Array(rows * m);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < m; j++) {
      let acc = 0;
      for (let r = 0; r < k; r++) acc = Math.fround(acc + Math.fround(x(i, r) * w[r * m + j]));
      out[i * m + j] = b ? Math.max(Math.fround(acc + b[j]), 0) : acc;
    }
  }
  return out;
}

/** Indices where `got` and `want` differ as float32 values (at most 3, for the message). */
function mismatches(got: ArrayLike<number>, want: Float32Array): string[] {
  const bad: string[] = [];
  if (got.length !== want.length) return [`length ${got.length} against ${want.length}`];
  for (let i = 0; i < want.length && bad.length < 3; i++) if (!Object.is(Math.fround(got[i]), want[i])) bad.push(`[${i}] ${got[i]} against ${want[i]}`);
  return bad;
}

describe('chunked SIMD products (W rows far apart, few rows a call)', () => {
  it('chunk exactly the products over a W of 512 KiB or more with rows 2 KiB apart and more than one chunk of steps', () => {
    const { program } = emitToFile('chunked_plan', CASES);
    for (const c of CASES) {
      const k = program.kernels.find((k) => k.ops[0] === 'matmul' && k.reads.some((r) => (r.attrs.name as string)?.startsWith(`${c.name}_`)));
      expect(k, c.name).toBeDefined();
      const how = renderSimdKernel(k!)!.how;
      expect(how.includes(`the reduction in chunks of ${CHUNK}`), `${c.name}: ${how}`).toBe(CHUNKED.has(c.name));
    }
  });

  for (const batch of [1, 3, 5, MIN_ROWS - 1]) {
    it(`batch ${batch}: SIMD (one thread and two) bit for bit the float32 loop, JavaScript kernels within float32 of the interpreter`, async () => {
      const { file } = emitToFile(`chunked_${batch}`, CASES);
      const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { createModel: (w?: object, o?: object) => { run: (f: object, b: number) => Record<string, Float32Array>; memory?: object } };
      const { feeds, want } = feedsAndReference(CASES, batch);
      const simd = mod.createModel({}, { simd: true });
      expect(!!simd.memory, 'SIMD memory in use').toBe(true);
      const got = simd.run(feeds, batch);
      for (const c of CASES) expect(mismatches(got[c.name], float32Loop(c, feeds, batch)), c.name).toEqual([]);
      // Two threads: each takes rows [lo, hi) of every call.
      const split = mod.createModel({}, { pool }).run(feeds, batch);
      for (const c of CASES) expect(mismatches(split[c.name], float32Loop(c, feeds, batch)), `${c.name}, two threads`).toEqual([]);
      const js = mod.createModel({}, { simd: false }).run(feeds, batch);
      for (const c of CASES) expect(worstError(js[c.name], want[c.name], 1e-4, 1e-4), c.name).toBeLessThanOrEqual(1);
    });
  }

  it('the relaxed-SIMD variant (under --experimental-wasm-relaxed-simd) keeps mul + add there: bit for bit too', () => {
    const batch = 6;
    const { file } = emitToFile('chunked_relaxed', CASES);
    const { feeds } = feedsAndReference(CASES, batch);
    const { relaxed, outputs } = runRelaxed(file, feeds, batch);
    expect(relaxed, 'relaxed module instantiated').toBe(true);
    for (const c of CASES.filter((c) => CHUNKED.has(c.name))) expect(mismatches(outputs[c.name], float32Loop(c, feeds, batch)), c.name).toEqual([]);
  }, 120_000);
});
