// runtime/batch-axis.ts against naive index formulas: gathering sample n along a batch axis, putting
// it back, and perSampleModel's loop over a stand-in model that records what each call got.
import { describe, expect, it } from 'vitest';
import { axisLayout, perSampleModel, putSample, takeSample } from '../../runtime/batch-axis.ts';
import type { TensorInfo } from '../../runtime/model-io.ts';

/** Row-major flat index of (a, b, c) in a [A, B, C] array. */
const at3 = (B: number, C: number, a: number, b: number, c: number) => (a * B + b) * C + c;

describe('takeSample and putSample', () => {
  const [D0, N, D2] = [3, 4, 2];
  const data = Float32Array.from({ length: D0 * N * D2 }, (_, i) => i * 1.5 - 7);

  it('gather x[:, n, :] of a [3, N, 2] array, as the index formula says', () => {
    const l = axisLayout([D0, 'N', D2]);
    expect(l).toEqual({ outer: 3, inner: 2 });
    for (let n = 0; n < N; n++) {
      const want: number[] = [];
      for (let a = 0; a < D0; a++) for (let c = 0; c < D2; c++) want.push(data[at3(N, D2, a, n, c)]);
      const got = takeSample(data, l, N, n);
      expect(got).toBeInstanceOf(Float32Array);
      expect(Array.from(got)).toEqual(want);
    }
  });

  it('batch first and batch last are the contiguous and the strided cases', () => {
    expect(Array.from(takeSample(Int32Array.from([1, 2, 3, 4, 5, 6]), axisLayout(['N', 3]), 2, 1))).toEqual([4, 5, 6]);
    expect(Array.from(takeSample(Int32Array.from([1, 2, 3, 4, 5, 6]), axisLayout([3, 'N']), 2, 1))).toEqual([2, 4, 6]);
    expect(takeSample(['a', 'b', 'c', 'd'], axisLayout([2, 'N']), 2, 0)).toEqual(['a', 'c']);
  });

  it('putSample of every sample rebuilds the array', () => {
    const l = axisLayout([D0, 'N', D2]);
    const back = new Float32Array(data.length);
    for (let n = 0; n < N; n++) putSample(back, takeSample(data, l, N, n), l, N, n);
    expect(Array.from(back)).toEqual(Array.from(data));
  });
});

describe('perSampleModel', () => {
  // A stand-in per-sample model: y[t, 0, j] = x[t, 0, j] * 10 + s (s fed whole, [1]); c [1] is the sum of x.
  const inputs: TensorInfo[] = [
    { name: 'x', dtype: 'float32', shape: [2, 'N', 3] },
    { name: 's', dtype: 'float32', shape: [1] },
  ];
  const outputs: TensorInfo[] = [
    { name: 'y', dtype: 'float32', shape: [2, 'N', 3] },
    { name: 'c', dtype: 'float32', shape: ['N'] },
  ];
  const calls: number[] = [];
  const runOne = (feeds: Record<string, Float32Array>, batch: number) => {
    calls.push(batch);
    const x = feeds.x;
    return { y: x.map((v) => v * 10 + feeds.s[0]), c: Float32Array.of(x.reduce((p, v) => p + v, 0)) };
  };
  const model = perSampleModel(
    {
      run: runOne,
      runAsync: async (feeds: Record<string, Float32Array>, batch: number) => runOne(feeds, batch),
      predict: (_x: Float32Array, _b: number) => new Float32Array(),
      predictAsync: async (_x: Float32Array, _b: number) => new Float32Array(),
    },
    inputs,
    outputs,
  );

  it('runs once per sample at batch 1 and puts each result on its output axis', async () => {
    const N = 3;
    const x = Float32Array.from({ length: 2 * N * 3 }, (_, i) => i);
    calls.length = 0;
    const out = model.run({ x, s: Float32Array.of(0.5) } as never, N) as unknown as Record<string, Float32Array>;
    expect(calls).toEqual([1, 1, 1]);
    expect(Array.from(out.y)).toEqual(Array.from(x, (v) => v * 10 + 0.5));
    const sums = [0, 1, 2].map((n) => [0, 1].reduce((p, t) => p + [0, 1, 2].reduce((q, j) => q + x[at3(N, 3, t, n, j)], 0), 0));
    expect(Array.from(out.c)).toEqual(sums);
    const viaAsync = (await model.runAsync({ x, s: Float32Array.of(0.5) } as never, N)) as unknown as Record<string, Float32Array>;
    expect(Array.from(viaAsync.c)).toEqual(sums);
  });

  it('checks whole inputs in the user layout', () => {
    expect(() => model.run({ x: new Float32Array(7), s: Float32Array.of(0) } as never, 2)).toThrow(/input 'x': expected float32 \[2, 2, 3\] \(12 values\), got 7 values/);
    expect(() => model.run({ x: new Float32Array(6), s: Float32Array.of(0) } as never, 0)).toThrow(/batch must be a positive integer/);
  });
});
