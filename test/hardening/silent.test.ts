// Inputs that used to give a silently wrong answer and are now clear errors: Gather indices fed
// out of range, labels outside [0, classes), learning rates that are not finite numbers ≥ 0,
// `createModel()` of an imported model without its weights, and another model's weight file.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { decodeWeights, encodeWeights } from '../../runtime/weights.ts';
import { dense, input, model } from '../../src/index.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { freshOutDir } from '../e2e/helpers.ts';
import { trainerFactory, uniformArray } from '../train/trainer-support.ts';

const T = onnx.TensorProto.DataType;
const vi = (name: string, dims: number[], elemType = T.FLOAT) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const encode = (graph: object, opset = 17) => onnx.ModelProto.encode(onnx.ModelProto.create({ opsetImport: [{ version: opset }], graph })).finish();

type Arrays = Float32Array | Int32Array;
interface LoadedModel {
  predict(x: Arrays, batch: number): Float32Array;
  run(feeds: Record<string, Arrays>, batch: number): Record<string, Float32Array>;
  getWeights(): { name: string; data: Float32Array }[];
}
type Module = { createModel(weights?: unknown, options?: Record<string, unknown>): LoadedModel };

const out = freshOutDir('hardening-silent');
let counter = 0;
/** Writes a compiled module under test/.out and imports it. */
async function load(js: string): Promise<Module> {
  const file = path.join(out, `m${counter++}.js`);
  writeFileSync(file, js);
  return (await import(/* @vite-ignore */ file)) as Module;
}

describe('Gather indices fed at run time', () => {
  // y = table[i] for a 4 × 2 table: rows [0, 1], [10, 11], [20, 21], [30, 31].
  const table = [0, 1, 10, 11, 20, 21, 30, 31];
  const gatherModel = (op: 'Gather' | 'GatherElements') =>
    encode({
      input: [vi('i', op === 'Gather' ? [3] : [3, 2], T.INT64)],
      output: [vi('y', [3, 2])],
      initializer: [{ name: 'table', dataType: T.FLOAT, dims: [4, 2], floatData: table }],
      node: [{ name: 'g', opType: op, input: ['table', 'i'], output: ['y'] }],
    });
  const rows = (ids: number[]) => ids.flatMap((r) => table.slice(((r + 4) % 4) * 2, ((r + 4) % 4) * 2 + 2));

  for (const backend of ['js', 'gpujs'] as const) {
    it(`${backend}: indices in [-4, 4) pick rows (negative from the end); 4 and -5 are errors from run and predict`, async () => {
      const mod = await load(compileModel(importOnnx(gatherModel('Gather')), { backend }).js);
      const m = mod.createModel(undefined, backend === 'gpujs' ? { mode: 'cpu' } : {});
      expect(Array.from(m.run({ i: new Int32Array([0, -4, 3]) }, 1).y)).toEqual(rows([0, -4, 3]));
      expect(Array.from(m.predict(new Int32Array([-1, 2, 1]), 1))).toEqual(rows([-1, 2, 1]));
      expect(() => m.run({ i: new Int32Array([0, 4, 1]) }, 1)).toThrow(/input 'i': index 4 at element 1 is out of range: .* 4 entries, so indices must lie in \[-4, 3\]/);
      expect(() => m.predict(new Int32Array([1, 2, -5]), 1)).toThrow(/input 'i': index -5 at element 2 is out of range/);
    });
  }

  it('GatherElements: the same check on the axis it indexes', async () => {
    const mod = await load(compileModel(importOnnx(gatherModel('GatherElements'))).js);
    const m = mod.createModel();
    // y[r][c] = table[i[r][c]][c]
    const i = [3, 0, -1, 1, 0, -4];
    const want = i.map((v, k) => table[((v + 4) % 4) * 2 + (k % 2)]);
    expect(Array.from(m.run({ i: Int32Array.from(i) }, 1).y)).toEqual(want);
    expect(() => m.run({ i: new Int32Array([0, 0, 0, 9, 0, 0]) }, 1)).toThrow(/index 9 at element 3 is out of range/);
  });
});

/** x[3] → dense(4): logits of 4 classes, trained with sparse categorical cross-entropy. */
async function classifier(name: string, backend: 'js' | 'gpujs' = 'js') {
  const x = input([3], { name: 'x' });
  const graph = model({ name, inputs: x, outputs: dense(x, 4, { name: 'fc' }) }).graph;
  const spec = { loss: { kind: 'sparseCategoricalCrossEntropy' as const, fromLogits: true }, optimizer: { kind: 'sgd' as const, lr: 0.1 } };
  if (backend === 'js') return trainerFactory('hardening-labels', graph, spec);
  const mod = await load(compileModel(graph, { backend, training: spec, seed: 1 }).js);
  return (options: Record<string, unknown> = {}) => (mod as unknown as { createTrainer(o: object): ReturnType<Awaited<ReturnType<typeof trainerFactory>>> }).createTrainer({ mode: 'cpu', ...options });
}

describe('labels outside [0, classes)', () => {
  const x = uniformArray(3 * 3, 5);

  for (const backend of ['js', 'gpujs'] as const) {
    it(`${backend}: step and evaluate refuse them, naming the label, its index and the class count; nothing is trained`, async () => {
      const t = (await classifier(`labels_${backend}`, backend))({ seed: 1 });
      const before = t.getWeights().map((w) => Array.from(w.data));
      expect(() => t.step(x, new Int32Array([1, 4, 0]), 3)).toThrow(/label 4 at index 1 is not a class id: the model has 4 classes/);
      expect(() => t.step(x, new Int32Array([-1, 0, 0]), 3)).toThrow(/label -1 at index 0 .* 4 classes/);
      expect(() => t.evaluate({ x, y: new Int32Array([0, 0, 7]), count: 3 })).toThrow(/label 7 at index 2 .* 4 classes/);
      expect(t.getWeights().map((w) => Array.from(w.data))).toEqual(before);
      expect(t.steps).toBe(0);
      expect(Number.isFinite(t.step(x, new Int32Array([3, 0, 2]), 3))).toBe(true);
    });
  }

  it('fit stops at the first bad batch with the same error', async () => {
    const t = (await classifier('labels_fit'))({ seed: 1 });
    const y = new Int32Array([0, 1, 2, 3, 4, 0]);
    expect(() => t.fit({ x: uniformArray(6 * 3, 6), y, count: 6 }, { epochs: 1, batchSize: 2, shuffle: false })).toThrow(/label 4 at index 0 is not a class id: the model has 4 classes/);
  });
});

describe('learning rates', () => {
  it('createTrainer refuses lr NaN, "abc", -0.1 and Infinity; 0 is allowed', async () => {
    const create = await classifier('lr_create');
    for (const lr of [NaN, 'abc', -0.1, Infinity]) {
      expect(() => create({ seed: 1, lr: lr as number })).toThrow(/createTrainer: lr must be a finite number ≥ 0, got (NaN|"abc"|-0\.1|Infinity)/);
    }
    expect(create({ seed: 1, lr: 0 }).lr).toBe(0);
  });

  it('a trainer.lr set to NaN is refused at the next step, before any weight changes', async () => {
    const t = (await classifier('lr_set'))({ seed: 1 });
    const before = t.getWeights().map((w) => Array.from(w.data));
    t.lr = NaN;
    expect(() => t.step(uniformArray(3, 1), new Int32Array([1]), 1)).toThrow(/learning rate of step 1 must be a finite number ≥ 0, got NaN/);
    expect(t.getWeights().map((w) => Array.from(w.data))).toEqual(before);
  });

  it('a schedule returning NaN is an error naming the step; the weights stay finite', async () => {
    const t = (await classifier('lr_schedule'))({ seed: 1 });
    const data = { x: uniformArray(8 * 3, 2), y: new Int32Array([0, 1, 2, 3, 0, 1, 2, 3]), count: 8 };
    const schedule = ({ step, baseLr }: { step: number; baseLr: number }) => (step < 2 ? baseLr : NaN);
    expect(() => t.fit(data, { epochs: 1, batchSize: 2, schedule })).toThrow(/schedule's value at step 2 \(epoch 0, batch 2\) must be a finite number ≥ 0, got NaN/);
    expect(t.steps).toBe(2);
    expect(t.getWeights().every((w) => w.data.every(Number.isFinite))).toBe(true);
    expect(t.lr).toBe(0.1);
  });
});

describe('weights an imported model came with, and weight files of other models', () => {
  // y = x · W for W an ONNX initializer [2, 2]: its values are the model.
  const W = [1, 2, 3, 4];
  const onnxModel = (name: string) =>
    encode({ name, input: [vi('x', [1, 2])], output: [vi('y', [1, 2])], initializer: [{ name: 'W', dataType: T.FLOAT, dims: [2, 2], floatData: W }], node: [{ opType: 'MatMul', input: ['x', 'W'], output: ['y'] }] });
  const compileOnnx = (name: string) => {
    const weights: Record<string, Float32Array> = {};
    const graph = importOnnx(onnxModel(name), { weightsOut: weights });
    return compileModel(graph, { initialWeights: weights, sourceName: `${name}.onnx` });
  };

  it("createModel() without the weight file is an error naming the .onnx file; with it, the file's values", async () => {
    const c = compileOnnx('imported');
    const mod = await load(c.js);
    expect(() => mod.createModel()).toThrow(/this model's weights come from imported\.onnx; pass its weight file/);
    // x = [1, 1]: y = [1 + 3, 2 + 4].
    expect(Array.from(mod.createModel(c.weights).predict(new Float32Array([1, 1]), 1))).toEqual([4, 6]);
    expect(Array.from(mod.createModel({ W: new Float32Array([0, 1, 1, 0]) }).predict(new Float32Array([1, 2]), 1))).toEqual([2, 1]);
  });

  it("another model's weight file with equal names and shapes is refused unless allowForeignWeights", async () => {
    const mine = compileOnnx('mine');
    const theirs = compileOnnx('theirs');
    const mod = await load(mine.js);
    expect(() => mod.createModel(theirs.weights)).toThrow(/belongs to another model, "theirs" \(graph sha256:.*\), not to "mine"/);
    expect(Array.from(mod.createModel(theirs.weights, { allowForeignWeights: true }).predict(new Float32Array([1, 0]), 1))).toEqual([1, 2]);
  });

  it('accepts its own compile output, its trainer.save(), a re-compiled version of the same model, and files without identity', async () => {
    const x = input([2], { name: 'x' });
    const build = (units: number, activation?: 'relu') => model({ name: 'same_name', inputs: x, outputs: dense(x, units, { name: 'fc', activation }) }).graph;
    const spec = { loss: { kind: 'mse' as const }, optimizer: { kind: 'sgd' as const, lr: 0.1 } };
    const v1 = compileModel(build(2), { training: spec, seed: 1 });
    const v2 = compileModel(build(2, 'relu'), { seed: 2 }); // same name and parameters, another graph
    expect(v2.graphHash).not.toBe(v1.graphHash);
    const mod1 = (await load(v1.js)) as Module & { createTrainer(o: object): { step(x: Float32Array, y: Float32Array, b: number): number; save(): Uint8Array } };
    const mod2 = await load(v2.js);
    const t = mod1.createTrainer({ weights: v1.weights });
    t.step(new Float32Array([1, 2]), new Float32Array([0.5, -0.5]), 1);
    const saved = t.save();
    expect(() => mod1.createModel(v1.weights)).not.toThrow();
    expect(() => mod1.createModel(saved)).not.toThrow(); // SGD keeps no state: the save holds the weights only
    expect(() => mod1.createTrainer({ weights: saved })).not.toThrow();
    expect(() => mod2.createModel(v1.weights)).not.toThrow();
    const anonymous = encodeWeights(decodeWeights(v1.weights).tensors);
    expect(() => mod2.createModel(anonymous)).not.toThrow();
  });
});
