// Every op's tests, in one table over every op: where its forward result is checked against an
// independent reference, and where its gradient is checked (or that it has none). A new op fails
// `tsc` here until it has both; each claim is checked against the named file's text, so the
// table cannot name a test that does not exercise the op.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VJP } from '../../compiler/autodiff/vjp.ts';
import { OPS, type OpName } from '../../src/ir/ops/index.ts';

/** A test file (or the case list a test file runs) that builds the op by name. */
type TestFile = `test/${string}.ts`;

/** ONNX node-test cases, listed in test/onnx/expected-pass.txt, that import to the op and compare it with ONNX's outputs. */
interface OnnxCases {
  readonly onnx: readonly string[];
}

/** The VJP table (compiler/autodiff/vjp.ts) says why the op has no gradient. */
const NONE = 'not differentiable';

interface Coverage {
  readonly reference: TestFile | OnnxCases;
  readonly gradient: TestFile | typeof NONE;
}

const ELEMENTWISE = { reference: 'test/ops/elementwise.test.ts', gradient: 'test/grad/cases/unary.ts' } as const;
const BINARY = { reference: 'test/ops/broadcasting.test.ts', gradient: 'test/grad/cases/binary.ts' } as const;
const CONV_POOL = { reference: 'test/ops/conv-pool.test.ts', gradient: 'test/grad/cases/conv-pool.ts' } as const;
const REDUCE = { reference: 'test/ops/reduce-softmax.test.ts', gradient: 'test/grad/cases/reduce.ts' } as const;
const MOVEMENT = { reference: 'test/ops/movement.test.ts', gradient: 'test/grad/cases/movement.ts' } as const;
/** Masks and signs: an all-zero VJP, checked by autodiff.test.ts's 'zero rules'. */
const ZERO_RULE = { reference: 'test/ops/grad-ops.test.ts', gradient: 'test/grad/autodiff.test.ts' } as const;
const GRADIENT_OP = { reference: 'test/ops/grad-ops.test.ts', gradient: NONE } as const;
const onnx = (...cases: string[]): OnnxCases => ({ onnx: cases });

export const COVERAGE: { readonly [K in OpName]: Coverage } = {
  // Sources: every forward test feeds them (harness.ts builds inputs and parameters).
  input: { reference: 'test/ops/harness.ts', gradient: NONE },
  param: { reference: 'test/ops/harness.ts', gradient: NONE },
  scan: { reference: 'test/ir/scan.test.ts', gradient: 'test/ir/scan-grad.test.ts' },
  const: { reference: 'test/ops/broadcasting.test.ts', gradient: NONE },
  neg: ELEMENTWISE,
  abs: ELEMENTWISE,
  exp: ELEMENTWISE,
  log: ELEMENTWISE,
  sqrt: ELEMENTWISE,
  erf: ELEMENTWISE,
  relu: ELEMENTWISE,
  sigmoid: ELEMENTWISE,
  tanh: ELEMENTWISE,
  leakyRelu: ELEMENTWISE,
  elu: ELEMENTWISE,
  celu: ELEMENTWISE,
  selu: ELEMENTWISE,
  softplus: ELEMENTWISE,
  gelu: ELEMENTWISE,
  clip: ELEMENTWISE,
  cast: ELEMENTWISE,
  add: BINARY,
  sub: BINARY,
  mul: BINARY,
  div: BINARY,
  pow: BINARY,
  maximum: BINARY,
  minimum: BINARY,
  matmul: { reference: 'test/ops/linalg.test.ts', gradient: 'test/grad/cases/linalg.ts' },
  conv2d: CONV_POOL,
  maxPool2d: CONV_POOL,
  avgPool2d: CONV_POOL,
  globalAvgPool: CONV_POOL,
  reduceSum: REDUCE,
  reduceMean: REDUCE,
  reduceMax: REDUCE,
  reduceMin: REDUCE,
  argmax: { reference: 'test/ops/reduce-softmax.test.ts', gradient: NONE },
  softmax: REDUCE,
  logSoftmax: REDUCE,
  reshape: MOVEMENT,
  identity: { reference: 'test/ops/movement.test.ts', gradient: 'test/grad/cases/unary.ts' },
  dropout: { reference: 'test/ops/movement.test.ts', gradient: 'test/grad/cases/unary.ts' },
  transpose: MOVEMENT,
  concat: MOVEMENT,
  slice: MOVEMENT,
  batchNorm: { reference: 'test/ops/norm.test.ts', gradient: NONE },
  dropoutMask: ZERO_RULE,
  batchSize: GRADIENT_OP,
  step: ZERO_RULE,
  sign: ZERO_RULE,
  isEqual: ZERO_RULE,
  expand: { reference: 'test/ops/grad-ops.test.ts', gradient: 'test/grad/cases/movement.ts' },
  oneHot: GRADIENT_OP,
  conv2dBackwardInput: GRADIENT_OP,
  conv2dBackwardFilter: GRADIENT_OP,
  maxPool2dBackward: GRADIENT_OP,
  avgPool2dBackward: GRADIENT_OP,
  sliceBackward: GRADIENT_OP,
  // Ops added for ONNX import: checked against ONNX's own test data.
  gather: { reference: onnx('test_gather_0', 'test_gather_1', 'test_gather_negative_indices'), gradient: 'test/dsl/embedding.test.ts' },
  // Imported for the loss ops, which pick each sample's class with it.
  gatherElements: { reference: onnx('test_nllloss_NC', 'test_nllloss_NCd1_weight'), gradient: NONE },
  compare: { reference: onnx('test_greater', 'test_less', 'test_equal_bcast'), gradient: NONE },
  where: { reference: onnx('test_where_example', 'test_where_long_example'), gradient: NONE },
  pad: { reference: onnx('test_constant_pad', 'test_edge_pad', 'test_reflect_pad', 'test_wrap_pad'), gradient: 'test/grad/cases/movement.ts' },
  roundFloat: { reference: onnx('test_cast_FLOAT_to_FLOAT8E4M3FN', 'test_cast_FLOAT_to_FLOAT8E5M2'), gradient: NONE },
  roundInt: { reference: onnx('test_cast_FLOAT_to_INT4', 'test_cast_FLOAT_to_UINT4'), gradient: NONE },
  poolNd: { reference: onnx('test_maxpool_3d_default', 'test_averagepool_3d_default', 'test_maxpool_1d_default'), gradient: NONE },
  maxPoolIndices: { reference: onnx('test_maxpool_with_argmax_2d_precomputed_strides'), gradient: NONE },
};

const ops = Object.keys(OPS) as OpName[];
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const exists = (file: string) => existsSync(ROOT + file);
const text = new Map<string, string>();
const read = (file: string): string => {
  if (!text.has(file)) text.set(file, exists(file) ? readFileSync(ROOT + file, 'utf8') : '');
  return text.get(file)!;
};
/** Whether `file` names the op as a string literal (how tests build it: makeNode('relu', ...)). */
const mentions = (file: string, op: string) => new RegExp(`['"\`]${op}['"\`]`).test(read(file));
const EXPECTED_PASS = new Set(read('test/onnx/expected-pass.txt').split('\n').map((l) => l.trim()));

describe('every op has a forward test and a gradient check, or a reason', () => {
  it('the table has exactly the registered ops', () => {
    expect(Object.keys(COVERAGE).sort()).toEqual([...ops].sort());
  });

  it.each(ops)('%s: its reference test builds it', (op) => {
    const ref = COVERAGE[op].reference;
    if (typeof ref === 'string') {
      expect(exists(ref), `${ref} exists`).toBe(true);
      expect(mentions(ref, op), `${ref} mentions '${op}'`).toBe(true);
    } else {
      expect(ref.onnx.length).toBeGreaterThan(0);
      expect(ref.onnx.filter((c) => !EXPECTED_PASS.has(c)), 'cases not in test/onnx/expected-pass.txt').toEqual([]);
    }
  });

  it.each(ops)('%s: its gradient check builds it, or the VJP table says it has none', (op) => {
    const grad = COVERAGE[op].gradient;
    const rule = VJP[op];
    if (grad === NONE) {
      expect(typeof rule, `${op} has a VJP rule: name its gradient check`).not.toBe('function');
    } else {
      expect(typeof rule, `${op} has no VJP rule`).toBe('function');
      expect(exists(grad), `${grad} exists`).toBe(true);
      expect(mentions(grad, op), `${grad} mentions '${op}'`).toBe(true);
    }
  });
});
