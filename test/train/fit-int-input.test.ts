// fit and evaluate of a model whose input is int32 token ids (embedding → dense per position, one
// class id per position): the loop feeds Int32Array batches, the weights equal those of the same
// steps taken by hand, and evaluate's loss and per-position accuracy equal a float64 loop here.
import { describe, expect, it } from 'vitest';
import { dense, embedding, input, model } from '../../src/index.ts';
import { copyRecord, lcg, trainerFactory, weightRecord } from './trainer-support.ts';

const [P, V, D, C] = [3, 5, 2, 4]; // positions, vocabulary, embedding width, classes

/** x int32 [N, 3] → embedding(5, 2) → dense(4): logits [N, 3, 4], sparse cross-entropy per position. */
async function tokenModel() {
  const x = input([P], { name: 'x', dtype: 'int32' });
  const y = dense(embedding(x, V, D, { name: 'emb' }), C, { name: 'fc' });
  return trainerFactory('fit-int-input', model({ name: 'fit_int_input', inputs: x, outputs: y }).graph, { loss: { kind: 'sparseCategoricalCrossEntropy', fromLogits: true }, optimizer: { kind: 'sgd', lr: 0.5 } });
}

/** `n` samples: random tokens, and the class of a token is (token + position) mod 4. */
function tokens(n: number, seed: number): { x: Int32Array; y: Int32Array; count: number } {
  const u = lcg(seed);
  const x = Int32Array.from({ length: n * P }, () => Math.floor(u() * V));
  const y = Int32Array.from(x, (t, i) => (t + (i % P)) % C);
  return { x, y, count: n };
}

/** Logits of every (sample, position) in float64 from the weights: a table lookup, then x·W + b. */
function logitsRef(w: Record<string, Float32Array>, x: Int32Array): Float64Array[] {
  const [table, kernel, bias] = [w['emb/embeddings'], w['fc/kernel'], w['fc/bias']];
  return Array.from(x, (t) => Float64Array.from({ length: C }, (_, c) => {
    let v = bias[c];
    for (let d = 0; d < D; d++) v += table[t * D + d] * kernel[d * C + c];
    return v;
  }));
}

/** Mean over samples of the summed per-position cross-entropy, and the fraction of positions whose argmax is the label. */
function naiveFigures(w: Record<string, Float32Array>, data: { x: Int32Array; y: Int32Array; count: number }) {
  let [loss, correct] = [0, 0];
  logitsRef(w, data.x).forEach((z, i) => {
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    loss += lse - z[data.y[i]];
    if (z.indexOf(m) === data.y[i]) correct++;
  });
  return { loss: loss / data.count, accuracy: correct / (data.count * P) };
}

describe('fit on int32 token ids', () => {
  it('fit feeds Int32Array batches: the weights equal the same steps by hand', async () => {
    const create = await tokenModel();
    const data = tokens(10, 3);
    const w0 = weightRecord(create({ seed: 2 }));
    const t = create({ weights: copyRecord(w0) });
    t.fit(data, { epochs: 2, batchSize: 4, shuffle: false, metrics: [] });
    const twin = create({ weights: copyRecord(w0) });
    for (let e = 0; e < 2; e++) {
      for (const [from, n] of [[0, 4], [4, 4], [8, 2]]) twin.step(data.x.subarray(from * P, (from + n) * P) as unknown as Float32Array, data.y.subarray(from * P, (from + n) * P), n);
    }
    expect(weightRecord(t)).toEqual(weightRecord(twin));
    expect(weightRecord(t)['emb/embeddings']).not.toEqual(w0['emb/embeddings']);
  });

  it("evaluate and the epoch's validation figures count per position, equal to a float64 loop", async () => {
    const create = await tokenModel();
    const t = create({ seed: 5 });
    const [train, val] = [tokens(40, 7), tokens(13, 8)];
    const history = t.fit(train, { epochs: 3, batchSize: 8, validationData: val });
    const ref = naiveFigures(weightRecord(t), val);
    const log = history.epochs[2];
    expect([log.valLoss!, log.valAccuracy!, log.valMetrics!.accuracy]).toBeAllclose([ref.loss, ref.accuracy, ref.accuracy], { rtol: 1e-5 });
    const e = t.evaluate(val, 5, ['accuracy', 'top2Accuracy']);
    expect([e.loss, e.accuracy, e.metrics.accuracy]).toBeAllclose([ref.loss, ref.accuracy, ref.accuracy], { rtol: 1e-5 });
    // 13 × 3 positions: a per-sample count could only reach multiples of 1/13.
    expect(Number.isInteger(ref.accuracy * 39)).toBe(true);
  });

  it('a float32 x for an int32 input is one error naming both types', async () => {
    const create = await tokenModel();
    const t = create({ seed: 1 });
    const bad = { x: new Float32Array(2 * P), y: new Int32Array(2 * P), count: 2 };
    expect(() => t.fit(bad, { epochs: 1, batchSize: 2 })).toThrow('training data: expected x a Int32Array (the model takes int32 inputs, e.g. token ids) and y a Int32Array (class ids), got Float32Array and Int32Array');
  });
});
