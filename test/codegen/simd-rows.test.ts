// The row kernels in WebAssembly SIMD (compiler/codegen/wasm/simd-rows.ts): softmax, layer norm,
// plain sums over rows and columns (bias gradients), max/min, exp and sigmoid maps, against the
// float64 reference interpreter (and the JavaScript kernels) at their edges: row lengths that are
// not multiples of 4, -inf masks, long rows, 1-D outputs split by [lo, hi), batch 1 and 3. Their
// float32 contract is the file's header; exp's (simd-rows-math.ts) is checked in ulps.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel, type Dim } from '../../src/ir/shape.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import type { Kernel } from '../../compiler/lower/kernel.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { rowPlanOf } from '../../compiler/codegen/wasm/simd-rows.ts';
import { compileAndLoad } from '../grad/check.ts';
import { Lcg } from '../reference/lcg.ts';
import { ThreadPool } from '../../runtime/parallel.ts';

type DT = 'float32' | 'float64';
interface Case {
  readonly name: string;
  readonly shapes: readonly Dim[][];
  readonly build: (xs: Node[]) => Node;
  /** The kinds of row kernel its kernels should take (in kernel order, JavaScript-only ones left out). */
  readonly kinds: readonly string[];
}

const mean = (x: Node, axes: number[]) => makeNode('reduceMean', [x], { axes, keepdims: true });
/** Layer norm over the last axis as the DSL builds it: (x − μ) / √(σ² + ε), ε an input. */
function layerNorm([x, eps]: Node[]): Node {
  const d = makeNode('sub', [x, mean(x, [-1])]);
  return makeNode('div', [d, makeNode('sqrt', [makeNode('add', [mean(makeNode('mul', [d, d]), [-1]), eps])])]);
}

/** Block `i` of width `w` of x's last axis (an LSTM gate of z). */
const gate = (x: Node, i: number, w = 6) => makeNode('slice', [x], { starts: [i * w], ends: [(i + 1) * w], axes: [-1] });

const CASES: Case[] = [
  // Softmax: max, Σ exp(x − max) (rows), exp(x − max) / Σ (a map), at row lengths around the vector width.
  ...[1, 3, 4, 5, 7, 64, 130].map((n): Case => ({ name: `softmax_${n}`, shapes: [['N', 3, n]], build: ([x]) => makeNode('softmax', [x], { axis: -1 }), kinds: n === 1 ? ['js', 'js'] : n < 4 ? ['js', 'map', 'js'] : ['row', 'map', 'row'] })),
  // The normalising division has no exp: the contraction tiles' elementwise kernel takes it.
  { name: 'layernorm_37', shapes: [['N', 5, 37], [1]], build: layerNorm, kinds: ['row', 'row'] },
  { name: 'layernorm_128', shapes: [['N', 4, 128], [1]], build: layerNorm, kinds: ['row', 'row'] },
  // Bias gradients: Σ over batch and tokens, to a 1-D output (split by [lo, hi)) or keeping dims.
  { name: 'colsum_1d_21', shapes: [['N', 6, 21]], build: ([x]) => makeNode('reduceSum', [x], { axes: [0, 1], keepdims: false }), kinds: ['column'] },
  { name: 'colsum_keep_130', shapes: [['N', 3, 130]], build: ([x]) => makeNode('reduceSum', [x], { axes: [0, 1], keepdims: true }), kinds: ['column'] },
  { name: 'colsum_batch_7', shapes: [['N', 7]], build: ([x]) => makeNode('reduceSum', [x], { axes: [0], keepdims: false }), kinds: ['column'] },
  // Across a middle axis: the output's last axis (5: one vector and one lane) is the contiguous one.
  { name: 'colsum_mid_5', shapes: [['N', 7, 5]], build: ([x]) => makeNode('reduceSum', [x], { axes: [1], keepdims: false }), kinds: ['column'] },
  // Softmax over a middle axis: max and Σ exp as column kernels (the max over a middle axis is simd-window.ts's), the division a map.
  { name: 'softmax_mid', shapes: [['N', 6, 5]], build: ([x]) => makeNode('softmax', [x], { axis: 1 }), kinds: ['map', 'column'] },
  { name: 'rowmin_9', shapes: [['N', 2, 9]], build: ([x]) => makeNode('reduceMin', [x], { axes: [-1], keepdims: false }), kinds: ['row'] },
  { name: 'rowsum_2axes', shapes: [['N', 3, 5, 6]], build: ([x]) => makeNode('reduceSum', [x], { axes: [2, 3], keepdims: false }), kinds: ['row'] },
  // A mean-squared-error loss: one scalar over batch and both axes (the row kernel's [lo, hi) is [0, 1)).
  { name: 'loss_mse', shapes: [['N', 5, 9], ['N', 5, 9]], build: ([a, b]) => { const d = makeNode('sub', [a, b]); return makeNode('reduceMean', [makeNode('mul', [d, d])], { axes: [0, 1, 2], keepdims: false }); }, kinds: ['row'] },
  { name: 'sigmoid_11', shapes: [['N', 11]], build: ([x]) => makeNode('sigmoid', [x]), kinds: ['map'] },
  // An LSTM cell's update, σ(f)·c + σ(i)·tanh(g): one input read at three offsets (the gate blocks of z), 6 wide.
  { name: 'lstm_cell_6', shapes: [['N', 18], ['N', 6]], build: ([z, c]) => makeNode('add', [makeNode('mul', [makeNode('sigmoid', [gate(z, 1)]), c]), makeNode('mul', [makeNode('sigmoid', [gate(z, 0)]), makeNode('tanh', [gate(z, 2)])])]), kinds: ['map'] },
  // x[:, 0:8] + x[:, 8:16]²: no transcendental, so the contraction tiles' elementwise kernel takes it; its
  // epilogue reads one input at two offsets (it read the first offset twice before simd-writer.ts keyed loads by offset).
  { name: 'two_slices_plain', shapes: [['N', 16]], build: ([x]) => makeNode('add', [gate(x, 0, 8), makeNode('mul', [gate(x, 1, 8), gate(x, 1, 8)])]), kinds: [] },
  // Σ over a row of exp(x[:, 0:8]) · x[:, 8:16]: two offsets of one input in a reduction's body (a plain product would be a contraction's).
  { name: 'rowsum_two_offsets', shapes: [['N', 16]], build: ([x]) => makeNode('reduceSum', [makeNode('mul', [makeNode('exp', [gate(x, 0, 8)]), gate(x, 1, 8)])], { axes: [1], keepdims: true }), kinds: ['row'] },
  { name: 'exp_neg_1d', shapes: [[19]], build: ([x]) => makeNode('neg', [makeNode('exp', [x])]), kinds: ['map'] },
  // Concats along the last axis: each part over its own stretch of the row (simd-rows-math.ts's piecesAlong), at
  // stretch edges off the vector width (5 | 7; 6 | 3 | 9) and with cheap parts computed in place (σ, tanh).
  { name: 'concat_5_7', shapes: [['N', 5], ['N', 7]], build: ([a, b]) => makeNode('concat', [a, b], { axis: -1 }), kinds: ['map'] },
  { name: 'concat_3_parts', shapes: [['N', 2, 6], ['N', 2, 3], ['N', 2, 9]], build: ([a, b, c]) => makeNode('concat', [makeNode('sigmoid', [a]), b, makeNode('tanh', [c])], { axis: 2 }), kinds: ['map'] },
  // An LSTM step's new carry [h | c]: h = σ(o)·tanh(c) computed in the concat, c copied (c also feeds it, so stays stored).
  { name: 'lstm_carry_6', shapes: [['N', 24], ['N', 6]], build: ([z, c]) => makeNode('concat', [makeNode('mul', [makeNode('sigmoid', [gate(z, 3)]), makeNode('tanh', [c])]), c], { axis: 1 }), kinds: ['map'] },
  // Along an outer axis, the selects are on a row index: each part is a loop over its own rows (a middle axis;
  // the first axis of unbatched operands, as [W; R] is stacked for an LSTM step's one product, split by [lo, hi) too).
  { name: 'concat_mid', shapes: [['N', 2, 5], ['N', 3, 5]], build: ([a, b]) => makeNode('concat', [a, b], { axis: 1 }), kinds: ['map'] },
  { name: 'concat_rows', shapes: [[3, 6], [4, 6]], build: ([a, b]) => makeNode('concat', [a, b], { axis: 0 }), kinds: ['map'] },
  // More parts than MAX_PIECES (one a time step): the code would grow with T, so JavaScript.
  { name: 'concat_many', shapes: Array.from({ length: 17 }, (): Dim[] => ['N', 1, 4]), build: (xs) => makeNode('concat', xs, { axis: 1 }), kinds: ['js'] },
];

function graphOf(cases: readonly Case[], dtype: DT): Graph {
  const inputs: Node[] = [];
  const outputs = cases.map((c) => {
    const xs = c.shapes.map((s, i) => makeNode('input', [], { name: `${c.name}_x${i}`, dtype, shape: s }));
    inputs.push(...xs);
    return { name: c.name, node: c.build(xs) };
  });
  return { name: 'simd_rows', inputs, outputs };
}

/** Seeded values in [-4, 4); softmax inputs get -inf masks (never a whole row: that is NaN everywhere). */
function feedsFor(cases: readonly Case[], batch: number): Record<string, Float32Array> {
  const rng = new Lcg(31 + batch);
  const feeds: Record<string, Float32Array> = {};
  for (const c of cases) {
    c.shapes.forEach((s, i) => {
      const shape = s.map((d) => (d === 'N' ? batch : Number(d)));
      const a = Float32Array.from({ length: numel(shape) }, () => rng.uniform(-4, 4));
      if (c.name.startsWith('layernorm') && i === 1) a[0] = 1e-5;
      const row = shape[shape.length - 1];
      if (c.name.startsWith('softmax') && row > 1) for (let j = 0; j < a.length; j++) if (j % row !== 0 && rng.next() < 0.2) a[j] = -Infinity;
      feeds[`${c.name}_x${i}`] = a;
    });
  }
  return feeds;
}

/** Bit patterns, every NaN made one (its payload is not part of the contract). */
function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(Float32Array.from(a).buffer), (b, i) => (Number.isNaN(a[i]) ? 0x7fc00000 : b));
}

/** Largest |got − want| ÷ (atol + rtol·|want|); NaN must meet NaN. */
function worst(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): number {
  if (got.length !== want.length) return Infinity;
  let w = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i]) || Number.isNaN(got[i])) w = Number.isNaN(want[i]) && Number.isNaN(got[i]) ? w : Infinity;
    else if (want[i] !== got[i]) w = Math.max(w, Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i])));
  }
  return w;
}

/** Which renderer took kernel `k`: the row kernels (by their plan), the contraction or window tiles, or none. */
function kindOf(k: Kernel): string {
  const s = renderSimdKernel(k);
  if (!s) return 'js';
  const plan = rowPlanOf(k);
  // The row kernels say how they are vectorised in words of their own (simd-rows.ts's render).
  return plan && /partial results per vector|across rows|as polynomials|a 1-D output|stretches/.test(s.how) ? plan.kind : 'tile';
}

describe('row kernels (softmax, layer norm, sums, exp) in WebAssembly SIMD', () => {
  const graph = graphOf(CASES, 'float32');

  it('every case takes the row, column or map kernels it should (rows shorter than a vector keep JavaScript reductions)', () => {
    for (const c of CASES) {
      const one = compileGraph(graphOf([c], 'float32')).program.kernels;
      const plans = one.map((k) => kindOf(k));
      expect(plans.filter((p) => p !== 'tile'), c.name).toEqual(c.kinds);
    }
  });

  for (const batch of [1, 3]) {
    it(`agree with the float64 interpreter within the float32 contract at batch ${batch}, as the JavaScript kernels do`, async () => {
      const feeds = feedsFor(CASES, batch);
      const want = interpret(graphOf(CASES, 'float64'), Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, Float64Array.from(v)])), {}, batch);
      const runs: Record<string, Float32Array>[] = [];
      for (const simd of [true, false, true]) {
        const { model } = await compileAndLoad(graph, 'simd-rows', `batch${batch}`, undefined, 'js', { simd });
        expect(!!(model as unknown as { memory?: object }).memory, 'SIMD memory in use').toBe(simd);
        const got = model.run(feeds, batch) as Record<string, Float32Array>;
        runs.push(got);
        for (const c of CASES) expect(worst(got[c.name], want[c.name], 2e-6, 1e-6), `${c.name}, simd ${simd}`).toBeLessThanOrEqual(1);
      }
      // Run to run, the SIMD results are the same bits.
      for (const c of CASES) expect(bits(runs[2][c.name]), c.name).toEqual(bits(runs[0][c.name]));
    });
  }

  it('give the same bits on two threads (a ThreadPool of threshold 1, which splits kernels by [lo, hi)) as on one', async () => {
    const pool = new ThreadPool({ threshold: 1 });
    try {
      const batch = 7;
      const feeds = feedsFor(CASES, batch);
      const { model: one } = await compileAndLoad(graph, 'simd-rows', `batch${batch}`, undefined, 'js', { simd: true });
      const { model: two } = await compileAndLoad(graph, 'simd-rows', `batch${batch}`, undefined, 'js', { simd: true, pool });
      const [a, b] = [one.run(feeds, batch), two.run(feeds, batch)];
      for (const c of CASES) expect(bits(b[c.name] as Float32Array), c.name).toEqual(bits(a[c.name] as Float32Array));
    } finally {
      pool.close();
    }
  });

  it('sums many terms within n·2⁻²⁴·Σ|x| of the float64 sum (a bias gradient over 64 tokens × 32 samples)', async () => {
    const c: Case = { name: 'bias', shapes: [['N', 64, 130]], build: ([x]) => makeNode('reduceSum', [x], { axes: [0, 1], keepdims: false }), kinds: ['column'] };
    const batch = 32;
    const feeds = feedsFor([c], batch);
    const { model } = await compileAndLoad(graphOf([c], 'float32'), 'simd-rows', 'bias', undefined, 'js', { simd: true });
    const got = model.run(feeds, batch).bias as Float32Array;
    const x = feeds.bias_x0;
    const n = batch * 64;
    for (let j = 0; j < 130; j++) {
      let sum = 0;
      let abs = 0;
      for (let r = 0; r < n; r++) {
        sum += x[r * 130 + j];
        abs += Math.abs(x[r * 130 + j]);
      }
      expect(Math.abs(got[j] - sum), `column ${j}`).toBeLessThanOrEqual(n * 2 ** -24 * abs);
    }
  });
});

describe('the vector exp, tanh and log (simd-rows-math.ts)', () => {
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 37] });
  const graph: Graph = { name: 'simd_exp', inputs: [x], outputs: [{ name: 'y', node: makeNode('exp', [x]) }, { name: 't', node: makeNode('tanh', [x]) }, { name: 'l', node: makeNode('log', [x]) }, { name: 's', node: makeNode('sigmoid', [x]) }] };

  /** Distance in float32 units in the last place between two finite floats of one sign. */
  const ulps = (a: number, b: number) => {
    const u = new Uint32Array(new Float32Array([Math.abs(a), Math.abs(b)]).buffer);
    return Math.sign(a) === Math.sign(b) ? Math.abs(u[0] - u[1]) : Infinity;
  };
  /** Values to feed, padded to whole rows of 37 (the partial vector of each row included). */
  const fed = (values: number[]) => {
    const feed = new Float32Array(Math.ceil(values.length / 37) * 37);
    feed.set(values);
    return feed;
  };

  it('is within 2 ulp of Math.exp rounded to float32 over [-104, 89], and exact at 0, ±∞ and NaN', async () => {
    const values: number[] = [0, -0, Infinity, -Infinity, NaN, 1, -1, 88.72, 88.73, 89, 100, -87.3, -100, -103.9, -104, -120];
    for (let v = -104; v <= 89; v += 0.0137) values.push(v);
    const feed = fed(values);
    const { model } = await compileAndLoad(graph, 'simd-rows', 'exp', undefined, 'js', { simd: true });
    const got = model.run({ x: feed }, feed.length / 37).y as Float32Array;
    for (let i = 0; i < values.length; i++) {
      const want = Math.fround(Math.exp(feed[i]));
      const at = `exp(${feed[i]})`;
      if (Number.isNaN(want)) expect(got[i], at).toBeNaN();
      else if (want === Infinity || want === 0 || feed[i] === 0) expect(got[i], at).toBe(want);
      else if (want < 2 ** -126) expect(Math.abs(got[i] - want), at).toBeLessThanOrEqual(2 * 2 ** -149);
      else expect(ulps(got[i], want), at).toBeLessThanOrEqual(2);
    }
  });

  it('tanh is within 2 ulp of Math.tanh rounded to float32, odd (tanh(−0) = −0), ±1 at ±∞ and NaN at NaN', async () => {
    const values: number[] = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 1e-40, 0.625, -0.625, 0.62500006, 9, -9, 9.0109, 9.0110, 50];
    for (let v = -12; v <= 12; v += 0.00731) values.push(v);
    for (let v = -0.05; v <= 0.05; v += 0.0000371) values.push(v);
    const feed = fed(values);
    const { model } = await compileAndLoad(graph, 'simd-rows', 'exp', undefined, 'js', { simd: true });
    const got = model.run({ x: feed }, feed.length / 37).t as Float32Array;
    for (let i = 0; i < values.length; i++) {
      const want = Math.fround(Math.tanh(feed[i]));
      const at = `tanh(${feed[i]})`;
      if (Number.isNaN(want)) expect(got[i], at).toBeNaN();
      else if (want === 0) expect(Object.is(got[i], want), at).toBe(true);
      else expect(ulps(got[i], want), at).toBeLessThanOrEqual(2);
    }
  });

  it('sigmoid is within 2 ulp of 1 / (1 + exp(−x)) rounded to float32 down to −87.33, 0 below (where it is under 2⁻¹²⁶), ½ at ±0, 0 and 1 at ∓∞, NaN at NaN', async () => {
    const values: number[] = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 1e-40, 16.6, 17, 88, 100, -87.3, -87.34, -88, -100];
    for (let v = -87.3; v <= 20; v += 0.00731) values.push(v);
    for (let v = -0.05; v <= 0.05; v += 0.0000371) values.push(v);
    const feed = fed(values);
    const { model } = await compileAndLoad(graph, 'simd-rows', 'exp', undefined, 'js', { simd: true });
    const got = model.run({ x: feed }, feed.length / 37).s as Float32Array;
    for (let i = 0; i < values.length; i++) {
      const want = Math.fround(1 / (1 + Math.exp(-feed[i])));
      const at = `sigmoid(${feed[i]})`;
      if (Number.isNaN(want)) expect(got[i], at).toBeNaN();
      else if (feed[i] < -87.3366) expect(got[i], at).toBe(0);
      else if (want === 0 || want === 1 || feed[i] === 0) expect(got[i], at).toBe(want);
      else expect(ulps(got[i], want), at).toBeLessThanOrEqual(2);
    }
  });

  it('log is within 2 ulp of Math.log rounded to float32 (subnormals too), −∞ at ±0, NaN below 0 and at NaN, ∞ at ∞', async () => {
    const values: number[] = [0, -0, -1, -1e-40, Infinity, -Infinity, NaN, 1, 0.5, 2, Math.SQRT1_2, 0.70710677, 0.7071068, 1e-40, 1e-45, 2 ** -126, 3.4e38, 1 + 2 ** -23, 1 - 2 ** -24];
    for (let v = -30; v <= 38; v += 0.0173) values.push(10 ** v);
    for (let v = 0.5; v <= 2; v += 0.000731) values.push(v);
    const feed = fed(values);
    const { model } = await compileAndLoad(graph, 'simd-rows', 'exp', undefined, 'js', { simd: true });
    const got = model.run({ x: feed }, feed.length / 37).l as Float32Array;
    for (let i = 0; i < values.length; i++) {
      const want = Math.fround(Math.log(feed[i]));
      const at = `log(${feed[i]})`;
      if (Number.isNaN(want)) expect(got[i], at).toBeNaN();
      else if (want === 0 || !Number.isFinite(want)) expect(got[i], at).toBe(want);
      else expect(ulps(got[i], want), at).toBeLessThanOrEqual(2);
    }
  });
});
