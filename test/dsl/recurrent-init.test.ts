// Keras's recurrent initialisers: orthogonal (checked by its Gram matrix and against a Householder
// QR written here, on the same Gaussian draws), the unit forget bias, and the defaults the DSL's
// lstm/gru/simpleRnn pick per style; and the emitted module running them at createModel().
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { REPO_ROOT } from '../../cli/conformance/run.ts';
import { describeInit, initialize, type InitSpec } from '../../runtime/init.ts';
import { Rng } from '../../runtime/rng.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { withInitStyle } from '../../src/dsl/init.ts';
import { input } from '../../src/dsl/layers.ts';
import { gru, lstm, simpleRnn } from '../../src/dsl/recurrent.ts';
import { graphParams, type Graph } from '../../src/ir/graph.ts';
import { graphFromJson, graphToJson } from '../../src/ir/json.ts';

/** The Gram matrix of the fewer of rows or columns of a row-major [rows, cols] matrix (float64). */
function smallGram(w: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const byRows = rows <= cols;
  const k = byRows ? rows : cols;
  const len = byRows ? cols : rows;
  const at = (v: number, i: number) => (byRows ? w[v * cols + i] : w[i * cols + v]);
  const g = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
    let s = 0;
    for (let i = 0; i < len; i++) s += at(a, i) * at(b, i);
    g[a * k + b] = s;
  }
  return g;
}

function expectIdentity(g: Float64Array, k: number, scale = 1, tol = 1e-5) {
  let worst = 0;
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) worst = Math.max(worst, Math.abs(g[a * k + b] - (a === b ? scale : 0)));
  expect(worst).toBeLessThan(tol);
}

/**
 * Householder QR of a row-major [m, n] matrix (m ≥ n), the thin Q with R's diagonal made
 * positive: what numpy.linalg.qr followed by Keras's `q *= sign(diag(r))` computes.
 */
function householderQ(a: Float64Array, m: number, n: number): Float64Array {
  const r = Float64Array.from(a);
  const vs: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const v = new Float64Array(m);
    let norm = 0;
    for (let i = j; i < m; i++) norm += r[i * n + j] ** 2;
    norm = Math.sqrt(norm);
    const alpha = r[j * n + j] > 0 ? -norm : norm;
    for (let i = j; i < m; i++) v[i] = r[i * n + j];
    v[j] -= alpha;
    let vv = 0;
    for (let i = j; i < m; i++) vv += v[i] ** 2;
    for (let c = 0; c < n; c++) {
      let d = 0;
      for (let i = j; i < m; i++) d += v[i] * r[i * n + c];
      for (let i = j; i < m; i++) r[i * n + c] -= (2 * d * v[i]) / vv;
    }
    vs.push(v.map((x) => x / Math.sqrt(vv)));
  }
  // Q = H0 H1 … H(n-1) applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let c = 0; c < n; c++) q[c * n + c] = 1;
  for (let j = n - 1; j >= 0; j--) {
    const v = vs[j];
    for (let c = 0; c < n; c++) {
      let d = 0;
      for (let i = j; i < m; i++) d += v[i] * q[i * n + c];
      for (let i = j; i < m; i++) q[i * n + c] -= 2 * d * v[i];
    }
  }
  for (let c = 0; c < n; c++) if (r[c * n + c] < 0) for (let i = 0; i < m; i++) q[i * n + c] = -q[i * n + c];
  return q;
}

describe('orthogonal', () => {
  const shapes: [string, number, number][] = [
    ['square', 6, 6],
    ['tall', 9, 4],
    ['wide (an LSTM recurrent kernel [H, 4H])', 5, 20],
    ['a row', 1, 7],
  ];

  it.each(shapes)('%s: the smaller Gram matrix is the identity within 1e-5', (_what, rows, cols) => {
    const w = initialize({ kind: 'orthogonal', rows, cols }, rows * cols, new Rng(7));
    expectIdentity(smallGram(w, rows, cols), Math.min(rows, cols));
  });

  it('gain scales it: WᵀW = gain² I', () => {
    const w = initialize({ kind: 'orthogonal', rows: 8, cols: 8, gain: 2 }, 64, new Rng(3));
    expectIdentity(smallGram(w, 8, 8), 8, 4, 4e-5);
  });

  it.each([
    [7, 3],
    [3, 7],
    [5, 5],
  ])('[%i, %i] is the sign-corrected Q of a Householder QR of the same standard-normal draws', (rows, cols) => {
    const m = Math.max(rows, cols);
    const n = Math.min(rows, cols);
    const rng = new Rng(11);
    const a = Float64Array.from({ length: m * n }, () => rng.normal(0, 1));
    const q = householderQ(a, m, n);
    const w = initialize({ kind: 'orthogonal', rows, cols }, rows * cols, new Rng(11));
    let worst = 0;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const want = rows < cols ? q[c * n + r] : q[r * n + c];
      worst = Math.max(worst, Math.abs(w[r * cols + c] - want));
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it('is the same for the same seed and differs for another', () => {
    const spec: InitSpec = { kind: 'orthogonal', rows: 4, cols: 12 };
    expect(Array.from(initialize(spec, 48, new Rng(5)))).toEqual(Array.from(initialize(spec, 48, new Rng(5))));
    expect(Array.from(initialize(spec, 48, new Rng(5)))).not.toEqual(Array.from(initialize(spec, 48, new Rng(6))));
  });

  it('refuses a tensor that is not rows × cols, and says what it is', () => {
    expect(() => initialize({ kind: 'orthogonal', rows: 3, cols: 4 }, 10, new Rng(1))).toThrow(/orthogonal\(rows=3, cols=4\): a tensor of 10 values is not 3 × 4/);
    expect(() => initialize({ kind: 'orthogonal', rows: 0, cols: 4 }, 0, new Rng(1))).toThrow(/rows must be a positive integer, got 0/);
    expect(describeInit({ kind: 'orthogonal', rows: 2, cols: 8, gain: 0.5 })).toBe('orthogonal(rows=2, cols=8, gain=0.5)');
  });
});

describe('unitForgetBias', () => {
  it('the forget block is 1, the others zeros, drawing nothing', () => {
    const rng = new Rng(9);
    const b = initialize({ kind: 'unitForgetBias', gates: 4, forget: 2, low: 0, high: 0 }, 12, rng);
    expect(Array.from(b)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
    // Nothing drawn: the stream is where a fresh one starts.
    expect(rng.normal(0, 1)).toBe(new Rng(9).normal(0, 1));
  });

  it('the other blocks uniform in [low, high]', () => {
    const b = initialize({ kind: 'unitForgetBias', gates: 4, forget: 1, low: -0.25, high: 0.25 }, 400, new Rng(2));
    expect(Array.from(b.subarray(100, 200)).every((v) => v === 1)).toBe(true);
    const others = [...b.subarray(0, 100), ...b.subarray(200)];
    expect(others.every((v) => v >= -0.25 && v <= 0.25)).toBe(true);
    expect(new Set(others).size).toBeGreaterThan(250);
  });

  it('refuses a forget index outside the gates and a size that is not whole blocks', () => {
    expect(() => initialize({ kind: 'unitForgetBias', gates: 4, forget: 4, low: 0, high: 0 }, 8, new Rng(1))).toThrow(/forget must be a gate index in \[0, 4\), got 4/);
    expect(() => initialize({ kind: 'unitForgetBias', gates: 4, forget: 1, low: 0, high: 0 }, 10, new Rng(1))).toThrow(/a tensor of 10 values is not 4 equal gate blocks/);
  });
});

beforeEach(() => resetLayerNames());

const initOf = (g: Graph, suffix: string) => graphParams(g).find((p) => String(p.attrs.name).endsWith(suffix))!.attrs.init as InitSpec;
const graphOf = (out: ReturnType<typeof lstm> | ReturnType<typeof gru>, x: ReturnType<typeof input>): Graph => ({ name: 'r', inputs: [x], outputs: [{ name: 'y', node: out as never }] });

describe('the DSL layers\' defaults', () => {
  const T = 3;
  const F = 2;
  const H = 4;

  it('Keras style: lstm has an orthogonal recurrent kernel, Glorot kernel and a unit forget bias in its gate order', () => {
    for (const [order, forget] of [['keras', 1], ['pytorch', 1], ['onnx', 2]] as const) {
      resetLayerNames();
      const x = input([T, F]);
      const g = graphOf(lstm(x, H, { gateOrder: order }), x);
      expect(initOf(g, '/recurrentKernel')).toEqual({ kind: 'orthogonal', rows: H, cols: 4 * H });
      expect(initOf(g, '/kernel')).toEqual({ kind: 'glorotUniform', fanIn: F, fanOut: 4 * H });
      expect(initOf(g, '/bias')).toEqual({ kind: 'unitForgetBias', gates: 4, forget, low: 0, high: 0 });
    }
  });

  it('Keras style: gru and simpleRnn get orthogonal recurrent kernels and zero biases; unitForgetBias: false keeps zeros', () => {
    const x = input([T, F]);
    const g = graphOf(gru(x, H), x);
    expect(initOf(g, '/recurrentKernel')).toEqual({ kind: 'orthogonal', rows: H, cols: 3 * H });
    expect(initOf(g, '/bias')).toEqual({ kind: 'zeros' });
    const s = graphOf(simpleRnn(x, H), x);
    expect(initOf(s, '/recurrentKernel')).toEqual({ kind: 'orthogonal', rows: H, cols: H });
    const off = graphOf(lstm(x, H, { unitForgetBias: false }), x);
    expect(initOf(off, '/bias')).toEqual({ kind: 'zeros' });
  });

  it('PyTorch style: everything U(±1/√H), no unit forget bias unless asked for', () => {
    withInitStyle('pytorch', () => {
      const x = input([T, F]);
      const u = { kind: 'uniform', low: -0.5, high: 0.5 };
      const g = graphOf(lstm(x, H), x);
      for (const role of ['/kernel', '/recurrentKernel', '/bias']) expect(initOf(g, role)).toEqual(u);
      const asked = graphOf(lstm(x, H, { unitForgetBias: true, gateOrder: 'pytorch' }), x);
      expect(initOf(asked, '/bias')).toEqual({ kind: 'unitForgetBias', gates: 4, forget: 1, low: -0.5, high: 0.5 });
    });
  });

  it('named and explicit choices: recurrentInitializer "orthogonal" or "glorotUniform", a bias initialiser unitForgetBias cannot extend', () => {
    const x = input([T, F]);
    const g = graphOf(lstm(x, H, { recurrentInitializer: 'glorotUniform', kernelInitializer: 'orthogonal' }), x);
    expect(initOf(g, '/recurrentKernel')).toEqual({ kind: 'glorotUniform', fanIn: H, fanOut: 4 * H });
    expect(initOf(g, '/kernel')).toEqual({ kind: 'orthogonal', rows: F, cols: 4 * H });
    // By default a bias initialiser of another kind stands as given; asked for explicitly, it is an error.
    expect(initOf(graphOf(lstm(x, H, { biasInitializer: 'heNormal' }), x), '/bias')).toEqual({ kind: 'heNormal', fanIn: F, fanOut: 1 });
    expect(() => lstm(x, H, { biasInitializer: 'heNormal', unitForgetBias: true, name: 'bad' })).toThrow(/unitForgetBias needs a zeros, ones, constant or uniform biasInitializer for the other gates, got heNormal/);
    expect(() => gru(x, H, { unitForgetBias: true } as never)).toThrow(/unitForgetBias is an LSTM option/);
  });

  it('graph JSON keeps (and checks) the new initialiser kinds', () => {
    const x = input([T, F]);
    const g = graphOf(lstm(x, H), x);
    expect(initOf(graphFromJson(JSON.parse(JSON.stringify(graphToJson(g)))), '/bias')).toEqual({ kind: 'unitForgetBias', gates: 4, forget: 1, low: 0, high: 0 });
    const json = graphToJson(g);
    const bad = { ...json, nodes: json.nodes.map((n) => (n.op === 'param' && String(n.attrs.name).endsWith('/recurrentKernel') ? { ...n, attrs: { ...n.attrs, init: { kind: 'orthogonal', rows: 0, cols: 16 } } } : n)) };
    expect(() => graphFromJson(bad)).toThrow(/rows/);
  });
});

describe('the emitted module initialises them at createModel()', () => {
  it('a Keras-style LSTM: recurrent kernel rows orthonormal, forget block 1, the rest 0', async () => {
    const H = 3;
    const x = input([4, 2]);
    const g: Graph = { name: 'lstm_init', inputs: [x], outputs: [{ name: 'y', node: lstm(x, H, { name: 'rnn' }) }] };
    const compiled = compileModel(g, { seed: 5 });
    const dir = path.join(REPO_ROOT, 'test', '.out', 'recurrent-init');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'model.js'), compiled.js);
    const mod = await import(/* @vite-ignore */ pathToFileURL(path.join(dir, 'model.js')).href);
    const weights = Object.fromEntries((mod.createModel().getWeights() as { name: string; data: Float32Array }[]).map((w) => [w.name, w.data]));
    expectIdentity(smallGram(weights['rnn/recurrentKernel'], H, 4 * H), H);
    expect(Array.from(weights['rnn/bias'])).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });
});
