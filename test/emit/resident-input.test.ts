// Inputs without a copy (docs/emitted-module.md): with SIMD kernels, an input array allocated in the
// model's memory (`model.memory.alloc`) is read in place, any other array is copied in on every
// call. Both must give the same outputs bit for bit, the resident array must be read afresh on
// each call (refilled between calls), and neither call may write into the caller's input. That
// the copy is skipped is a matter of speed (bench/engines/kiln.mjs uses it), not asserted here.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileCommand } from '../../cli/commands.ts';
import { freshOutDir } from '../e2e/helpers.ts';

interface Memory { alloc<T extends Float32ArrayConstructor>(Type: T, length: number): Float32Array }
interface Model { predict(x: Float32Array, batch: number): Float32Array; memory?: Memory }

/** Values in [-1, 1) from a fixed linear congruential sequence. */
function values(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

describe('an input in the model memory is read in place', () => {
  it('gives the outputs of a copied input, bit for bit, and is read afresh on every call', async () => {
    const out = freshOutDir('resident-input');
    await compileCommand('examples/mlp.ts', { backend: 'js', out, seed: 1 });
    const mod = (await import(pathToFileURL(path.join(out, 'mlp.mjs')).href)) as { createModel(w: string): Model };
    const model = mod.createModel(path.join(out, 'mlp.weights.bin'));
    expect(model.memory, 'SIMD kernels run here (Node 20)').toBeDefined();
    const batch = 37;
    const [first, second] = [values(batch * 784, 1), values(batch * 784, 2)];

    const resident = model.memory!.alloc(Float32Array, batch * 784);
    for (const data of [first, second]) {
      resident.set(data);
      const kept = data.slice();
      const copied = model.predict(data, batch);
      const inPlace = model.predict(resident, batch);
      expect(Buffer.from(inPlace.buffer, inPlace.byteOffset, inPlace.byteLength).equals(Buffer.from(copied.buffer, copied.byteOffset, copied.byteLength))).toBe(true);
      expect(data).toEqual(kept);
      expect(resident).toEqual(kept);
    }
    // The two batches differ, so a result cached from the first call would fail above; check it can.
    expect(model.predict(first, batch)).not.toEqual(model.predict(second, batch));
  });
});
