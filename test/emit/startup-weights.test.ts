// Start-up: a weight file's tensors reach a model's memory in one copy. resolveWeights copies each
// tensor once, from the file's bytes into an array from the allocator it is given (an emitted
// model passes its memory's: WebAssembly, shared, plain).
import { describe, expect, it } from 'vitest';
import { allocArray, resolveWeights, type ParameterInfo } from '../../runtime/model-io.ts';
import { SimdMemory } from '../../runtime/simd.ts';
import { encodeWeights } from '../../runtime/weights.ts';

const params: ParameterInfo[] = [
  { name: 'w', dtype: 'float32', shape: [2, 3], init: { kind: 'zeros' }, trainable: true },
  { name: 'b', dtype: 'float32', shape: [3], init: { kind: 'zeros' }, trainable: true },
];
const W = Float32Array.from([1, -2, 3.5, 0.25, -0, 6]);
const B = Float32Array.from([7, 8, -9]);
const file = () =>
  encodeWeights([
    { name: 'w', dtype: 'float32', shape: [2, 3], data: W },
    { name: 'b', dtype: 'float32', shape: [3], data: B },
  ]);

describe('resolveWeights with an allocator', () => {
  /** An allocator that records every array it hands out. */
  function recording() {
    const made: unknown[] = [];
    const alloc = <T extends typeof Float32Array | typeof Float64Array | typeof Int32Array>(Type: T, length: number) => {
      const a = allocArray(Type, length);
      made.push(a);
      return a;
    };
    return { made, alloc };
  }

  it("puts a weight file's tensors in arrays from the allocator, not in the caller's bytes", () => {
    const bytes = file();
    const { made, alloc } = recording();
    const w = resolveWeights(params, bytes, 0, undefined, false, alloc);
    expect(made).toHaveLength(2);
    expect(w[0]).toBe(made[0]);
    expect(w[1]).toBe(made[1]);
    expect(Array.from(w[0])).toEqual(Array.from(W));
    expect(Array.from(w[1])).toEqual(Array.from(B));
    // The model owns them: writing a weight (a training step) leaves the file's bytes alone.
    const before = bytes.slice();
    w[0].fill(42);
    expect(bytes).toEqual(before);
  });

  it('reads bytes that lie at any address (a file one byte into a larger buffer)', () => {
    const bytes = file();
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const w = resolveWeights(params, shifted.subarray(1), 0, undefined, false, new SimdMemory().alloc);
    expect(Array.from(w[0])).toEqual(Array.from(W));
    expect(Array.from(w[1])).toEqual(Array.from(B));
  });

  it('places them in a WebAssembly memory directly when given its allocator', () => {
    const memory = new SimdMemory();
    const w = resolveWeights(params, file(), 0, undefined, false, memory.alloc);
    for (const a of w) expect(memory.owns(a)).toBe(true);
    expect(Array.from(w[1])).toEqual(Array.from(B));
  });

  it('copies arrays given by name and fresh initial weights into the allocator too', () => {
    const { made, alloc } = recording();
    const given = { w: W.slice(), b: B.slice() };
    const w = resolveWeights(params, given, 0, undefined, false, alloc);
    expect(made).toEqual(w);
    expect(w[0]).not.toBe(given.w);
    const fresh = recording();
    const z = resolveWeights(params, undefined, 3, undefined, false, fresh.alloc);
    expect(fresh.made).toEqual(z);
    expect(Array.from(z[1])).toEqual([0, 0, 0]);
  });
});
