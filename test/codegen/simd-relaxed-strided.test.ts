// The relaxed-SIMD variant of products whose W has rows 2 KiB apart or more but is too small for
// the plain kernels' cache blocking (compiler/codegen/wasm/simd-blocked.ts, STRIDED_BYTES): the
// relaxed body packs W from 16 rows a call (relaxed_madd over the packed strips) and keeps mul +
// add on the unpacked tiles below that; the plain body does neither. Both bodies run against the
// float64 interpreter: the relaxed one in a child `node --experimental-wasm-relaxed-simd`, at a
// batch under 16 rows (unpacked) and over it (packed: 4-row tiles and single rows), with column
// tails, a partial panel, a transposed splatted operand and a bias-ReLU epilogue.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { emitToFile, feedsAndReference, runRelaxed, worstError, type EdgeCase } from './simd-edge-cases.ts';
import { compileAndLoad } from '../grad/check.ts';
import { graphOf } from './simd-edge-cases.ts';

const RTOL = 1e-4;
const ATOL = 1e-4;

const CASES: EdgeCase[] = [
  // A dense layer with its bias: rows 2 KiB apart, W 192 KiB (the plain kernels block from 256 KiB).
  { name: 'dense_k96_m512', shapes: [['N', 96], [96, 512], [512]], build: ([x, w, b]) => makeNode('relu', [makeNode('add', [makeNode('matmul', [x, w]), b])]) },
  // Rows 2052 bytes apart: two whole panels, a partial one of 0 + 1 column (the plain tail).
  { name: 'xw_k33_m513', shapes: [['N', 33], [33, 513]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  // Rows 4 KiB apart, a short reduction.
  { name: 'xw_k5_m1024', shapes: [['N', 5], [5, 1024]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  // A transposed splatted operand with a fixed 19 rows (four 4-row tiles and 3 single rows).
  { name: 'xt_k40_m520', shapes: [[40, 19], [40, 520]], build: ([x, w]) => makeNode('matmul', [x, w], { transA: true }) },
  // Rows 1 KiB apart: not strided, nothing packed, relaxed_madd throughout.
  { name: 'xw_k64_m256', shapes: [['N', 64], [64, 256]], build: ([x, w]) => makeNode('matmul', [x, w]) },
];
const STRIDED = new Set(['dense_k96_m512', 'xw_k33_m513', 'xw_k5_m1024', 'xt_k40_m520']);

describe('relaxed-SIMD variant of products over W with rows 2 KiB apart', () => {
  it('packs W (scratch) and keeps mul + add unpacked in the relaxed body only, where the rows are 2 KiB apart', () => {
    const { program } = emitToFile('relaxed_strided_plan', CASES);
    for (const c of CASES) {
      const k = program.kernels.find((k) => k.ops[0] === 'matmul' && k.reads.some((r) => (r.attrs.name as string)?.startsWith(`${c.name}_`)));
      expect(k, c.name).toBeDefined();
      const s = renderSimdKernel(k!)!;
      const relaxed = s.fn.relaxed!.listing('f', []);
      const strided = STRIDED.has(c.name);
      // The blocked path (`<name>_blocked`, calls of MIN_ROWS rows or more) is where W is packed.
      expect((s.fn.scratch ?? 0) + (s.blocked?.scratch ?? 0), `${c.name}: plain bodies pack nothing`).toBe(0);
      expect((s.blocked?.relaxedScratch ?? 0) > 0, `${c.name}: relaxed blocked body packs`).toBe(strided);
      // A strided product multiply-adds fused only in its blocked path; its register tiles, over
      // unpacked W: mul + add. Elsewhere no plain product is left.
      if (strided) expect(s.blocked!.relaxed!.listing('f', []), c.name).toMatch(/f32x4\.relaxed_madd/);
      expect(/f32x4\.relaxed_madd/.test(relaxed), `${c.name}: relaxed_madd in the relaxed tiles`).toBe(!strided);
      expect(/f32x4\.mul/.test(relaxed), `${c.name}: mul + add in the relaxed tiles`).toBe(strided);
      expect(s.how.includes('relaxed-SIMD variant packs W'), c.name).toBe(strided);
    }
  });

  for (const batch of [5, 19]) {
    it(`plain kernels here and relaxed ones under --experimental-wasm-relaxed-simd agree with the interpreter at batch ${batch}`, async () => {
      const { file } = emitToFile(`relaxed_strided_${batch}`, CASES);
      const { feeds, want } = feedsAndReference(CASES, batch);
      const { relaxed, outputs } = runRelaxed(file, feeds, batch);
      expect(relaxed, 'relaxed module instantiated').toBe(true);
      for (const c of CASES) expect(worstError(outputs[c.name], want[c.name], RTOL, ATOL), `relaxed ${c.name}, batch ${batch}`).toBeLessThanOrEqual(1);
      const { model } = await compileAndLoad(graphOf(`relaxed_strided_plain`, CASES, 'float32'), 'relaxed-strided', `plain${batch}`, undefined, 'js');
      const plain = model.run(feeds, batch) as Record<string, Float32Array>;
      for (const c of CASES) expect(worstError(plain[c.name], want[c.name], RTOL, ATOL), `plain ${c.name}, batch ${batch}`).toBeLessThanOrEqual(1);
    }, 120_000);
  }
});
