// The cache-blocked path of the SIMD products (compiler/codegen/wasm/simd-blocked.ts) against the
// float64 reference interpreter: reductions of one block, one block and one step, whole blocks and
// three and a bit; column panels with and without a tail of 1–7 columns; calls just below and at
// MIN_ROWS rows (below: the plain tiles), 4-row tiles with single rows left over; a transposed
// splatted operand; an epilogue (bias, ReLU) that must run once, after the last block.
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { KC, MIN_ROWS, NC } from '../../compiler/codegen/wasm/simd-blocked.ts';
import { BLOCKED, emitToFile, feedsAndReference, worstError } from './simd-edge-cases.ts';

/** float32 sums of up to 769 products of values in [-1, 1) against float64. */
const RTOL = 1e-4;
const ATOL = 1e-4;

describe('cache-blocked SIMD products agree with the interpreter', () => {
  it('every case takes the blocked path', () => {
    const { program } = emitToFile('blocked_plan', BLOCKED);
    const matmuls = program.kernels.filter((k) => k.ops[0] === 'matmul');
    expect(matmuls.length).toBe(BLOCKED.length);
    for (const k of matmuls) expect(renderSimdKernel(k)?.how, k.name).toMatch(/Blocked for the cache/);
  });

  it('packed strips sit in distinct L1 sets (their stride is an odd number of 64-byte lines)', () => {
    // Packing one row of W writes 32 bytes into every strip of the panel; strips a multiple of
    // 4 KiB apart all map to one set of a 4 KiB-per-way L1 and evict each other (the MLP layer at
    // batch 64 ran 25 % slower). The stride follows from the scratch size: NC / 8 strips.
    const { program } = emitToFile('blocked_plan', BLOCKED);
    const k = program.kernels.find((x) => x.ops[0] === 'matmul')!;
    // The blocked path is a function of its own (`<name>_blocked`); it alone packs.
    const { fn, blocked } = renderSimdKernel(k)!;
    expect(fn.scratch).toBeUndefined();
    const scratch = blocked!.scratch!;
    const stride = scratch / (NC / 8);
    expect(Number.isInteger(stride)).toBe(true);
    expect(stride).toBeGreaterThanOrEqual(KC * 32);
    expect((stride / 64) % 2).toBe(1);
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
