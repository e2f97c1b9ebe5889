// One meaning per ALU primitive (src/ir/expr.ts): each op on the awkward operands (negative
// dividends and divisors, NaN, -0, negative bases) against hand-computed values, on the
// reference interpreter, the JavaScript renderer, GPU.js (webasm and cpu backends in Node) and
// the WebAssembly SIMD epilogue.
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { GPUJS_HELPERS, helpersUsed, renderGpuJsKernel } from '../../compiler/codegen/gpujs-kernel.ts';
import { renderJsKernel } from '../../compiler/codegen/js-kernel.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import type { Kernel } from '../../compiler/lower/kernel.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { DType } from '../../src/ir/dtype.ts';
import * as E from '../../src/ir/expr.ts';
import type { Expr } from '../../src/ir/expr.ts';
import { evaluateExpr } from '../../src/ir/interpret.ts';
import { erf, hashUniform } from '../../runtime/math.ts';
import { GpuDevice } from '../../runtime/gpujs.ts';
import { compileAndLoad } from '../grad/check.ts';

/** Inputs `in0`, `in1`, `in2` at the output index: row i of a case reads element i of each. */
const [A, B, C] = [0, 1, 2].map((i) => E.load(i, [E.v('o0')]));
const o0 = E.v('o0');

interface Case {
  readonly name: string;
  readonly expr: Expr;
  /** Per row: the input values, then the value wanted (hand-computed). */
  readonly rows: readonly (readonly number[])[];
  /** Exact in float32 as well (GPU.js computes in float32). */
  readonly float32?: boolean;
}

const NaN_ = Number.NaN;
const INF = Infinity;

const CASES: Case[] = [
  {
    name: 'mod is floor modulo: the sign of the divisor',
    expr: E.binary('mod', A, B),
    rows: [[7, 3, 1], [-7, 3, 2], [7, -3, -2], [-7, -3, -1], [-6, 3, 0], [6, -3, 0], [0, 5, 0], [-1, 4, 3], [5.5, 2, 1.5], [-5.5, 2, 0.5], [1, 0, NaN_]],
    float32: true,
  },
  {
    name: 'idiv is floor division',
    expr: E.binary('idiv', A, B),
    rows: [[7, 3, 2], [-7, 3, -3], [7, -3, -3], [-7, -3, 2], [-6, 3, -2], [-1, 4, -1], [0, 5, 0]],
    float32: true,
  },
  {
    // Index arithmetic that may go negative (o0 - 5 for o0 in 0..9): the shift and the general form.
    name: 'idiv of index arithmetic by a power of two (a shift) floors below zero',
    expr: E.binary('idiv', E.sub(o0, E.num(5)), E.num(4)),
    rows: [[-2], [-1], [-1], [-1], [-1], [0], [0], [0], [0], [1]],
    float32: true,
  },
  {
    name: 'mod of index arithmetic that may be negative',
    expr: E.binary('mod', E.sub(o0, E.num(5)), E.num(4)),
    rows: [[3], [0], [1], [2], [3], [0], [1], [2], [3], [0]],
    float32: true,
  },
  {
    name: 'mod of non-negative index arithmetic (the % and mask fast paths)',
    expr: E.add(E.mul(E.binary('mod', o0, E.num(3)), E.num(10)), E.binary('mod', o0, E.num(4))),
    rows: [[0], [11], [22], [3], [10], [21], [2], [13], [20], [1]],
    float32: true,
  },
  {
    name: 'max and min: NaN if either operand is NaN',
    expr: E.add(E.mul(E.max(A, B), E.num(10)), E.min(A, B)),
    rows: [[NaN_, 1, NaN_], [1, NaN_, NaN_], [2, -3, 17], [-3, 2, 17]],
    float32: true,
  },
  {
    name: 'pow with negative and zero bases, as Math.pow',
    expr: E.binary('pow', A, B),
    rows: [[-2, 3, -8], [-2, 2, 4], [-2, -1, -0.5], [-8, 1 / 3, NaN_], [0, -1, INF], [-0, -1, -INF], [-0, 3, -0], [-0, 2, 0], [0, 0, 1], [NaN_, 0, 1], [0, NaN_, NaN_], [2, -1, 0.5]],
    float32: true,
  },
  {
    name: 'comparisons with NaN: false, except ne',
    expr: E.add(
      E.add(E.mul(E.binary('lt', A, B), E.num(1)), E.mul(E.binary('ge', A, B), E.num(2))),
      E.add(E.mul(E.binary('eq', A, B), E.num(4)), E.mul(E.binary('ne', A, B), E.num(8))),
    ),
    rows: [[NaN_, 1, 8], [1, NaN_, 8], [NaN_, NaN_, 8], [1, 2, 9], [2, 2, 6], [-0, 0, 6], [3, 2, 10]],
    float32: true,
  },
  {
    name: 'and, or: non-zero (NaN included) is true',
    expr: E.add(E.binary('and', A, B), E.mul(E.binary('or', A, B), E.num(2))),
    rows: [[NaN_, 1, 3], [0, NaN_, 2], [0, 0, 0], [-1, 0, 2], [2, 3, 3]],
    float32: true,
  },
  {
    name: 'select: a non-zero condition (NaN included) picks the first value',
    expr: E.select(A, B, C),
    rows: [[NaN_, 1, 2, 1], [0, 1, 2, 2], [-0, 1, 2, 2], [-3, 1, 2, 1]],
    float32: true,
  },
  {
    name: 'floor rounds towards -∞; sign keeps NaN',
    expr: E.add(E.mul(E.unary('floor', A), E.num(10)), E.unary('sign', B)),
    rows: [[-1.5, -3, -21], [-0.5, 2, -9], [1.5, 0, 10], [2, NaN_, NaN_]],
    float32: true,
  },
];

const inputCount = (e: Expr): number => {
  let n = 0;
  E.walk(e, (x) => {
    if (x.k === 'load') n = Math.max(n, x.input + 1);
  });
  return n;
};

/** The case's input columns and wanted values. */
function columns(c: Case): { inputs: number[][]; want: number[] } {
  const n = inputCount(c.expr);
  return { inputs: Array.from({ length: n }, (_, i) => c.rows.map((r) => r[i])), want: c.rows.map((r) => r[r.length - 1]) };
}

/** A one-dimensional kernel computing `expr` at each row. */
function kernelOf(c: Case, dtype: DType): Kernel {
  const n = inputCount(c.expr);
  const shape = [c.rows.length];
  const reads = Array.from({ length: n }, (_, i) => makeNode('input', [], { name: `in${i}`, dtype, shape }));
  const out = makeNode('input', [], { name: 'out', dtype, shape });
  return { name: 'k0', shape, dtype, inputs: reads.map((r) => r.type), expr: c.expr, reads, writes: out, ops: ['primitive'], recomputes: [], layers: [] };
}

/** Same value, -0 and +0 told apart, NaN equal to NaN. */
const same = (got: ArrayLike<number>, want: readonly number[]) => expect(Array.from(got).map((x) => (Object.is(x, -0) ? '-0' : x))).toEqual(want.map((x) => (Object.is(x, -0) ? '-0' : x)));

describe.each(CASES)('$name', (c) => {
  const { inputs, want } = columns(c);

  it('interpreter', () => {
    same(c.rows.map((_, i) => evaluateExpr(c.expr, { o0: i }, inputs.map((col) => Float64Array.from(col)))), want);
  });

  it('JavaScript renderer', () => {
    const k = kernelOf(c, 'float64');
    const js = ts.transpileModule(renderJsKernel(k), { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
    const run = new Function('erf', 'hashUniform', `${js}\nreturn k0;`)(erf, hashUniform) as (batch: number, out: Float64Array, ...ins: Float64Array[]) => void;
    const out = new Float64Array(c.rows.length);
    run(1, out, ...inputs.map((col) => Float64Array.from(col)));
    same(out, want);
  });

  for (const mode of ['webasm', 'cpu'] as const) {
    it.runIf(c.float32 || mode === 'cpu')(`GPU.js ${mode}`, () => {
      const source = renderGpuJsKernel(kernelOf(c, 'float32'));
      const device = new GpuDevice({ mode });
      try {
        const kernel = device.kernel('k0', source, helpersUsed(source).map((h) => GPUJS_HELPERS[h]), c.rows.length, false);
        const args = inputs.map((col) => device.upload(Float32Array.from(col)));
        same(device.read(kernel(1, ...args), c.rows.length), want.map((x) => Math.fround(x)));
      } finally {
        device.destroy();
      }
    });
  }
});

describe('WebAssembly SIMD epilogue', () => {
  it('maximum and minimum after a matmul: NaN if either operand is NaN, as the interpreter', async () => {
    // y = x·W with W picking column j % 8 of x, then max / min with a per-column c.
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 8] });
    const w = makeNode('input', [], { name: 'w', dtype: 'float32', shape: [8, 16] });
    const c = makeNode('input', [], { name: 'c', dtype: 'float32', shape: [16] });
    const xw = makeNode('matmul', [x, w]);
    const graph = { name: 'simd_nan', inputs: [x, w, c], outputs: [{ name: 'max', node: makeNode('maximum', [xw, c]) }, { name: 'min', node: makeNode('minimum', [xw, c]) }] };
    const kernels = compileGraph(graph).program.kernels;
    expect(kernels.filter((k) => renderSimdKernel(k) !== null).length, 'kernels in SIMD').toBeGreaterThan(0);
    const xs = Float32Array.from([1, -2, 3, 4, -5, 6, 0, -8]);
    const ws = new Float32Array(8 * 16);
    for (let j = 0; j < 16; j++) ws[(j % 8) * 16 + j] = 1;
    const cs = Float32Array.from([0, 0, 0, 0, 0, 0, 0, 0, NaN_, NaN_, 1, 1, 1, 1, 1, 1]);
    const { model } = await compileAndLoad(graph, 'primitives', 'simd-nan', undefined, 'js', { simd: true });
    expect(!!(model as unknown as { memory?: object }).memory, 'SIMD in use').toBe(true);
    const got = model.run({ x: xs, w: ws, c: cs }, 1);
    // Columns 0–7: x against 0; columns 8–15: x against NaN, NaN, then 1.
    same(got.max, [1, 0, 3, 4, 0, 6, 0, 0, NaN_, NaN_, 3, 4, 1, 6, 1, 1]);
    same(got.min, [0, -2, 0, 0, -5, 0, 0, -8, NaN_, NaN_, 1, 1, -5, 1, 0, -8]);
  });
});
