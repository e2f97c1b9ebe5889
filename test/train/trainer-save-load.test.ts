// save() / load(): a trainer's file holds the weights, the optimizer state, the step count, the
// learning rate and the dropout RNG, so a fresh trainer that loads it continues bit-identically.
import { describe, expect, it } from 'vitest';
import { decodeWeights } from '../../runtime/weights.ts';
import { dense, dropout, input, model } from '../../src/index.ts';
import { trainerFactory, uniformArray, type FullTrainer } from './trainer-support.ts';

const B = 6;
const X = uniformArray(B * 4, 501);
const T = uniformArray(B * 2, 502);

async function mlp(name: string, hidden = 8) {
  const x = input([4], { name: 'x' });
  const h = dense(dropout(x, 0.3, { name: 'drop' }), hidden, { name: 'h', activation: 'relu' });
  const y = dense(h, 2, { name: 'out' });
  return trainerFactory('trainer-save-load', model({ name, inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'adam', lr: 0.01 } });
}

const snapshot = (t: FullTrainer) => ({
  weights: t.getWeights().map((w) => [w.name, Array.from(w.data)]),
  state: t.getState().map((s) => [s.name, Array.from(s.data)]),
});

describe('save and load', () => {
  it('a fresh trainer that loads the file trains on bit-identically (losses, weights, Adam state, step count, lr)', async () => {
    const create = await mlp('saveload_mlp');
    const t = create({ seed: 3 });
    t.lr = 0.004;
    for (let i = 0; i < 5; i++) t.step(X, T, B);
    const bytes = t.save();
    const saved = snapshot(t);
    const continued = Array.from({ length: 5 }, () => t.step(X, T, B));
    const end = snapshot(t);

    // Another seed (other initial weights, other dropout stream) and another lr: load replaces all of it.
    const u = create({ seed: 99, lr: 0.5 });
    u.load(bytes);
    expect(u.steps).toBe(5);
    expect(u.lr).toBe(0.004);
    expect(snapshot(u)).toEqual(saved);
    const resumed = Array.from({ length: 5 }, () => u.step(X, T, B));
    expect(resumed).toEqual(continued);
    expect(snapshot(u)).toEqual(end);
    expect(u.steps).toBe(10);
    expect(u.predict(X, B)).toEqual(t.predict(X, B));
  });

  it('createTrainer({ weights: saved }) resumes the same way as load()', async () => {
    const create = await mlp('saveload_weights_option');
    const t = create({ seed: 3 });
    for (let i = 0; i < 4; i++) t.step(X, T, B);
    const bytes = t.save();
    const continued = Array.from({ length: 3 }, () => t.step(X, T, B));
    const u = create({ seed: 42, weights: bytes } as never);
    expect(u.steps).toBe(4);
    expect(Array.from({ length: 3 }, () => u.step(X, T, B))).toEqual(continued);
    expect(snapshot(u)).toEqual(snapshot(t));
  });

  it('the file holds every weight and Adam moment by name, the step count and the dropout RNG', async () => {
    const create = await mlp('saveload_contents');
    const t = create({ seed: 4 });
    for (let i = 0; i < 3; i++) t.step(X, T, B);
    const { tensors, meta } = decodeWeights(t.save());
    const names = tensors.map((x) => x.name).sort();
    const params = ['h/kernel', 'h/bias', 'out/kernel', 'out/bias'];
    expect(names).toEqual([...params, ...params.map((p) => `${p}/m`), ...params.map((p) => `${p}/v`)].sort());
    const byName = Object.fromEntries(tensors.map((x) => [x.name, Array.from(x.data)]));
    for (const w of [...t.getWeights(), ...t.getState()]) expect(byName[w.name], w.name).toEqual(Array.from(w.data));
    expect(meta.steps).toBe(3);
    expect(meta.lr).toBe(0.01);
    expect(Array.isArray(meta.dropoutRng)).toBe(true);

    // Weights and state alone are not enough: without the saved dropout RNG the masks differ.
    const u = create({ seed: 4 });
    const v = create({ seed: 40 });
    u.load(t.save());
    v.setWeights(Object.fromEntries(t.getWeights().map((w) => [w.name, w.data])));
    v.setState(Object.fromEntries(t.getState().map((s) => [s.name, s.data])));
    v.steps = t.steps;
    const fromFile = [u.step(X, T, B), u.step(X, T, B)];
    const withoutRng = [v.step(X, T, B), v.step(X, T, B)];
    expect(fromFile).toEqual([t.step(X, T, B), t.step(X, T, B)]);
    expect(withoutRng).not.toEqual(fromFile);
  });

  it('save after load writes the same bytes', async () => {
    const create = await mlp('saveload_bytes');
    const t = create({ seed: 5 });
    for (let i = 0; i < 2; i++) t.step(X, T, B);
    const bytes = t.save();
    const u = create({ seed: 6 });
    u.load(bytes);
    expect(u.save()).toEqual(bytes);
    // An ArrayBuffer is accepted too.
    const v = create({ seed: 7 });
    v.load(bytes.slice().buffer);
    expect(v.save()).toEqual(bytes);
  });

  it('a corrupt or truncated file is rejected with a checksum error and leaves the trainer as it was', async () => {
    const create = await mlp('saveload_corrupt');
    const t = create({ seed: 8 });
    t.step(X, T, B);
    const bytes = t.save();
    const u = create({ seed: 9 });
    const before = snapshot(u);
    const flipped = bytes.slice();
    flipped[Math.floor(flipped.length / 2)] ^= 0x10;
    expect(() => u.load(flipped)).toThrow(/checksum/i);
    const last = bytes.slice();
    last[last.length - 5] ^= 0x01; // the last data byte, just before the CRC
    expect(() => u.load(last)).toThrow(/checksum/i);
    expect(() => u.load(bytes.slice(0, bytes.length - 16))).toThrow(/checksum|truncated/i);
    expect(snapshot(u)).toEqual(before);
    expect(u.steps).toBe(0);
  });

  it("loading another architecture's file throws: the file's graph hash names another model", async () => {
    const small = (await mlp('saveload_small', 8))({ seed: 1 });
    const big = (await mlp('saveload_big', 5))({ seed: 1 });
    expect(() => big.load(small.save())).toThrow(/another model/);
  });
});
