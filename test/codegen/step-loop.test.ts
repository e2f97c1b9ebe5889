// FunctionBody.stepLoop, the loop of every SIMD reduction: it runs on the first pointer that moves
// forward, against that pointer's end, and counts steps only where none does. Each stride pair
// below runs a dot product of two strided float32 sequences in WebAssembly and is held to the
// same sum by a JavaScript loop over the same bytes, rounding like float32, for 0 to 9 steps.
import { describe, expect, it } from 'vitest';
import { F32, FunctionBody } from '../../compiler/codegen/wasm/binary.ts';
import { encodeModule } from '../../compiler/codegen/wasm/wasm-module.ts';
import { SimdMemory } from '../../runtime/simd.ts';

/** `dot(steps, p, q, out)`: out[0] = Σ load(p + i·sp) · load(q + i·sq) over `steps` steps, via stepLoop. */
function dotModule(sp: number, sq: number): WebAssembly.Module {
  const f = new FunctionBody(4);
  const [steps, p, q, out] = [0, 1, 2, 3];
  const acc = f.local(F32);
  f.f32(0).set(acc);
  f.stepLoop([{ local: p, stride: sp }, { local: q, stride: sq }], () => f.get(steps), () => {
    f.get(acc).get(p).f32Load(0).get(q).f32Load(0).op('f32.mul').op('f32.add').set(acc);
  });
  f.get(out).get(acc).f32Store(0);
  return new WebAssembly.Module(encodeModule([{ name: 'dot', params: 4, body: f }]));
}

describe('FunctionBody.stepLoop', () => {
  // Strides in bytes: forward on the first pointer, on the second only, on neither (counted).
  const pairs: [number, number][] = [[4, 8], [4, 0], [0, 4], [-4, 12], [0, 0], [-4, -8], [0, -4]];
  for (const [sp, sq] of pairs) {
    it(`strides ${sp} and ${sq} bytes: the sum of a plain loop over the same addresses, 0 to 9 steps`, () => {
      const memory = new SimdMemory();
      const data = memory.alloc(Float32Array, 256);
      for (let i = 0; i < data.length; i++) data[i] = Math.fround(Math.sin(i + 1) * 3);
      const out = memory.alloc(Float32Array, 1);
      const dot = memory.instance(dotModule(sp, sq)).exports.dot as (...a: number[]) => void;
      // Both sequences start mid-array so that negative strides stay inside it.
      const [p0, q0] = [data.byteOffset + 4 * 96, data.byteOffset + 4 * 160];
      for (let steps = 0; steps <= 9; steps++) {
        let want = 0;
        for (let i = 0; i < steps; i++) {
          const [a, b] = [data[(p0 + i * sp - data.byteOffset) / 4], data[(q0 + i * sq - data.byteOffset) / 4]];
          want = Math.fround(want + Math.fround(a * b));
        }
        out[0] = NaN;
        dot(steps, p0, q0, out.byteOffset);
        expect(out[0], `${steps} steps`).toBe(want);
      }
    });
  }
  it('counts no step where a pointer moves forward (a counted loop adds 1 each step)', () => {
    const listing = (stride: number) => {
      const f = new FunctionBody(2);
      const x = f.local(F32);
      f.stepLoop([{ local: 1, stride }], () => f.get(0), () => f.get(1).f32Load(0).set(x));
      return f.listing('f', ['n', 'p']);
    };
    expect(listing(4)).not.toMatch(/i32\.const 1$/m);
    expect(listing(-4)).toMatch(/i32\.const 1$/m);
  });
});
