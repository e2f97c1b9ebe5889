// What the SIMD renderer leaves out where shapes are literal: a row loop that would never run (a
// convolution's filters, a multiple of 4, leave no single rows). Less code is less for V8 to
// compile in both its tiers, which a model's first prediction pays for. Results at these edges are
// checked against the interpreter in simd.test.ts and conv-strided-simd.test.ts; here, that the
// code is what the description says.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { Dim } from '../../src/ir/shape.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { compileModel } from '../../compiler/compile.ts';
import { renderSimdKernel, simdListing } from '../../compiler/codegen/wasm/simd-kernel.ts';

const input = (name: string, shape: Dim[]) => makeNode('input', [], { name, dtype: 'float32', shape });

/** The SIMD kernel of a 3×3 convolution with `filters` filters over [N, 2, 9, 12]: its description and wasm text. */
function convKernel(filters: number): { how: string; listing: string } {
  const x = input('x', ['N', 2, 9, 12]);
  const w = input('w', [filters, 2, 3, 3]);
  const y = makeNode('conv2d', [x, w], { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
  const [k] = compileGraph({ name: `conv${filters}`, inputs: [x, w], outputs: [{ name: 'y', node: y }] }).program.kernels.filter((k) => k.ops.includes('conv2d'));
  const s = renderSimdKernel(k);
  if (!s) throw new Error('the convolution has no SIMD kernel');
  return { how: s.how, listing: simdListing(k, s) };
}

const count = (text: string, instruction: string) => text.split('\n').filter((l) => l.trim() === instruction).length;

describe('SIMD kernels emit only the loops their literal shapes run', () => {
  it('filters a multiple of 4: blocks of 4 rows only; fewer than 4: single rows only; otherwise both', () => {
    const [eight, nine, three] = [8, 9, 3].map(convKernel);
    expect(eight.how).toMatch(/tile 4 o1 × 8 o3\./);
    expect(nine.how).toMatch(/tile 4 o1 × 8 o3 \(single rows: 1 × 16\)\./);
    expect(three.how).toMatch(/tile 1 × 16 o3\./);
    // Nine filters need the 8's loops and a single-row loop with its own column tiles.
    expect(count(eight.listing, 'loop')).toBeLessThan(count(nine.listing, 'loop'));
    expect(count(three.listing, 'loop')).toBeLessThan(count(nine.listing, 'loop'));
  });
});

describe('a product over the batch keeps its single rows in a function of its own', () => {
  // A prediction at batch 1 calls `<name>_rows` alone, so V8 compiles (and warm() warms) only the
  // single-row tiles; the kernel itself keeps every row loop, for calls of any size.
  const x = input('x', ['N', 40]);
  const w = input('w', [40, 24]);
  const graph = { name: 'dense', inputs: [x, w], outputs: [{ name: 'y', node: makeNode('matmul', [x, w], {}) }] };

  it('`<name>_rows` has the single-row loop only, and is the smaller function', () => {
    const [k] = compileGraph(graph).program.kernels.filter((k) => k.ops.includes('matmul'));
    const s = renderSimdKernel(k)!;
    expect(s.rows?.name).toBe(`${k.name}_rows`);
    const params = ['batch', 'lo', 'hi', 'out', 'in0', 'in1'];
    const [whole, rows] = [s.fn, s.rows!].map((g) => g.body.listing(g.name, params));
    // The row loops, bounded by `hi` (parameter 2): the kernel steps 4 rows, then 1; the part, 1 alone.
    const rowSteps = (text: string) => [...text.matchAll(/i32\.const (\d+)\n\s*i32\.add\n\s*local\.get 2\n\s*i32\.gt_s/g)].map((m) => Number(m[1]));
    expect(rowSteps(whole)).toEqual([4, 1]);
    expect(rowSteps(rows)).toEqual([1]);
    expect(rows.split('\n').length).toBeLessThan(0.7 * whole.split('\n').length);
    expect(simdListing(k, s)).toContain(`;; ${k.name}_rows: ${k.name} for calls of fewer than 4 rows, one row at a time.`);
  });

  it('the emitted table sends calls of fewer than 4 rows there; a convolution (rows along the image) has none', () => {
    const { js, program } = compileModel(graph, { seed: 1 });
    const [k] = program.kernels.filter((k) => k.ops.includes('matmul'));
    expect(js).toContain(`(hi - lo < 4 ? e.${k.name}_rows : e.${k.name})(batch, lo, hi`);
    expect(convKernel(8).listing).not.toMatch(/_rows:/);
  });
});
