// What the SIMD renderer leaves out where shapes are literal: a row loop that would never run (a
// convolution's filters, a multiple of 4, leave no single rows). Less code is less for V8 to
// compile in both its tiers, which a model's first prediction pays for. Results at these edges are
// checked against the interpreter in simd.test.ts and conv-strided-simd.test.ts; here, that the
// code is what the description says.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { Dim } from '../../src/ir/shape.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
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
