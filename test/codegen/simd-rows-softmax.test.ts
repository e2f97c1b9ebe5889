// Softmax's row kernels in WebAssembly SIMD (compiler/codegen/wasm/simd-rows.ts, simd-rows-math.ts)
// against naive float64 loops written here: the row max and min (4 accumulators from 4 vectors a
// row, pmax/pmin with a NaN mask), Σ exp(x − max) and exp(x − max) / Σ, at row lengths around
// every edge of the blocks (1–4 accumulators, a remainder loop, a partial vector), with NaN at
// each position class, rows of −∞, +∞ and ±0. The float32 contract (docs/emitted-module.md): max
// and min equal the reference in value (NaN where the row has one; the sign of a zero may differ);
// softmax within exp's 2 ulp and the sum's n·2⁻²⁴ (2e-6 relative, 1e-6 absolute here).
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { rowPlanOf } from '../../compiler/codegen/wasm/simd-rows.ts';
import { compileAndLoad } from '../grad/check.ts';
import { Lcg } from '../reference/lcg.ts';

/** Row lengths: 1 vector; 2 and 3 (one accumulator each); 4 (one block); blocks plus a remainder and a tail; the block's 64. */
const LENGTHS = [4, 5, 7, 8, 11, 12, 15, 16, 17, 19, 20, 31, 32, 33, 35, 64, 65, 130];
const ROWS = 12;

function graphOf(n: number): Graph {
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', ROWS, n] });
  const outputs: { name: string; node: Node }[] = [
    { name: 'max', node: makeNode('reduceMax', [x], { axes: [-1], keepdims: false }) },
    { name: 'min', node: makeNode('reduceMin', [x], { axes: [-1], keepdims: false }) },
    { name: 'softmax', node: makeNode('softmax', [x], { axis: -1 }) },
  ];
  return { name: `softmax_rows_${n}`, inputs: [x], outputs };
}

/**
 * Rows of U(−8, 8) with, by row: none special; NaN first, in the first block, last of the full
 * vectors, in the partial vector; all −∞; one +∞; −∞ masks (softmax's padding); all ±0; one −∞
 * among the values; a row of equal values.
 */
function rowsOf(n: number, batch: number, rng: Lcg): Float32Array {
  const x = new Float32Array(batch * ROWS * n);
  for (let r = 0; r < batch * ROWS; r++) {
    const row = x.subarray(r * n, (r + 1) * n);
    for (let i = 0; i < n; i++) row[i] = rng.uniform(-8, 8);
    const full = Math.floor(n / 4) * 4;
    switch (r % ROWS) {
      case 1: row[0] = NaN; break;
      case 2: row[Math.min(n - 1, 6)] = NaN; break;
      case 3: row[Math.max(0, full - 1)] = NaN; break;
      case 4: row[n - 1] = NaN; break;
      case 5: row.fill(-Infinity); break;
      case 6: row[rng.int(0, n)] = Infinity; break;
      case 7: for (let i = 1; i < n; i++) if (rng.next() < 0.3) row[i] = -Infinity; break;
      case 8: for (let i = 0; i < n; i++) row[i] = i % 3 ? 0 : -0; break;
      case 9: row[rng.int(0, n)] = -Infinity; break;
      case 10: row.fill(2.5); break;
    }
  }
  return x;
}

/** Naive float64 references, with JavaScript's NaN and infinity arithmetic. */
function reference(x: Float32Array, n: number): { max: number[]; min: number[]; softmax: number[] } {
  const max: number[] = [];
  const min: number[] = [];
  const softmax: number[] = [];
  for (let r = 0; r < x.length / n; r++) {
    let hi = -Infinity;
    let lo = Infinity;
    for (let i = 0; i < n; i++) {
      const v = x[r * n + i];
      hi = Number.isNaN(v) || Number.isNaN(hi) ? NaN : Math.max(hi, v);
      lo = Number.isNaN(v) || Number.isNaN(lo) ? NaN : Math.min(lo, v);
    }
    max.push(hi);
    min.push(lo);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(x[r * n + i] - hi);
    for (let i = 0; i < n; i++) softmax.push(Math.exp(x[r * n + i] - hi) / sum);
  }
  return { max, min, softmax };
}

/** Index of the first element off by more than atol + rtol·|want| (NaN must meet NaN, ±0 are equal), or −1. */
function firstBad(got: Float32Array, want: number[], rtol: number, atol: number): number {
  if (got.length !== want.length) return 0;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) return i;
    } else if (g !== w && !(Math.abs(g - w) <= atol + rtol * Math.abs(w))) return i;
  }
  return -1;
}

describe('softmax row kernels (max/min with 4 accumulators, held-constant exp) against naive loops', () => {
  it('every length takes SIMD row kernels for max, min and Σ, and SIMD maps for exp(x − max) and the division', () => {
    for (const n of LENGTHS) {
      const kinds = compileGraph(graphOf(n)).program.kernels.map((k) => rowPlanOf(k)?.kind ?? 'none');
      expect(kinds, `n = ${n}`).toEqual(['row', 'row', 'row', 'map', 'row', 'map']);
    }
  });

  for (const batch of [1, 3]) {
    it(`agree with the references at every row length, batch ${batch} (NaN, ±∞, −∞ masks, ±0 rows)`, async () => {
      for (const n of LENGTHS) {
        const x = rowsOf(n, batch, new Lcg(7 * n + batch));
        const want = reference(x, n);
        const { model } = await compileAndLoad(graphOf(n), 'simd-rows-softmax', `n${n}`, undefined, 'js', { simd: true });
        expect(!!(model as unknown as { memory?: object }).memory, 'SIMD memory in use').toBe(true);
        const got = model.run({ x }, batch) as Record<string, Float32Array>;
        for (const op of ['max', 'min'] as const) {
          const bad = firstBad(got[op], want[op], 0, 0);
          expect(bad, `${op}, n = ${n}, row ${bad}: got ${got[op][bad]}, want ${want[op][bad]}`).toBe(-1);
        }
        const bad = firstBad(got.softmax, want.softmax, 2e-6, 1e-6);
        expect(bad, `softmax, n = ${n}, element ${bad}: got ${got.softmax[bad]}, want ${want.softmax[bad]}`).toBe(-1);
      }
    });
  }

  it('a row with a NaN or +∞ is NaN throughout, a row of −∞ too; a row of equal values is 1/n', async () => {
    const n = 33;
    const x = rowsOf(n, 1, new Lcg(5));
    const { model } = await compileAndLoad(graphOf(n), 'simd-rows-softmax', `n${n}`, undefined, 'js', { simd: true });
    const y = (model.run({ x }, 1) as Record<string, Float32Array>).softmax;
    const row = (r: number) => Array.from(y.subarray(r * n, (r + 1) * n));
    for (const r of [1, 2, 3, 4, 5, 6]) expect(row(r).every(Number.isNaN), `row ${r}`).toBe(true);
    expect(row(10)).toEqual(new Array(n).fill(Math.fround(1 / n)));
    // −∞ entries get exactly 0; the rest sums to 1 within the contract.
    const masked = row(7);
    masked.forEach((v, i) => x[7 * n + i] === -Infinity && expect(v).toBe(0));
    expect(Math.abs(masked.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(n * 2 ** -23);
  });
});
