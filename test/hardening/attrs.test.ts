// Attribute schemas (issue 12, item 1): every attribute of every op of the OPS table, fed a code
// payload, an object, NaN and a huge number through makeNode and through graph JSON, is a Kiln
// error; nothing compiles with it and no payload runs. Also the two payloads found in review
// (poolNd countedPads, roundFloat least) through `kiln check` and `kiln compile`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderGpuJsKernel } from '../../compiler/codegen/gpujs-kernel.ts';
import { renderJsKernel } from '../../compiler/codegen/js-kernel.ts';
import { compileModel } from '../../compiler/compile.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { DType } from '../../src/ir/dtype.ts';
import { KilnError } from '../../src/ir/errors.ts';
import * as E from '../../src/ir/expr.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { graphFromJson, graphToJson, type GraphJson } from '../../src/ir/json.ts';
import type { Node } from '../../src/ir/node.ts';
import { OPS, type OpName } from '../../src/ir/ops/index.ts';
import type { Dim } from '../../src/ir/shape.ts';
import { compileAndLoad } from '../grad/check.ts';
import { freshOutDir, kiln, showRun } from '../e2e/helpers.ts';

const PAYLOAD = '0+(globalThis.__pwned=1,0)';
const pwned = () => (globalThis as { __pwned?: unknown }).__pwned;
afterEach(() => expect(pwned(), 'a payload ran').toBeUndefined());

interface Example {
  /** Input leaves: shape and dtype (float32 unless given). */
  inputs?: [Dim[], DType?][];
  attrs: Record<string, unknown>;
}

const f = (...shape: Dim[]): [Dim[]] => [shape];
const i32 = (...shape: Dim[]): [Dim[], DType] => [shape, 'int32'];
const win = { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] };
const pool = { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], countIncludePad: false };
const pool3 = { kernel: [2, 2, 2], strides: [2, 2, 2], dilations: [1, 1, 1], pads: [0, 0, 0, 0, 0, 0], countIncludePad: true, countedPads: [0, 0, 0, 0, 0, 0] };
const unary = { inputs: [f('N', 4)], attrs: {} };
const binary = { inputs: [f('N', 4), f(4)], attrs: {} };

/** scan's body: carry h [N, 4] and a time slice x [N, 2] in, tanh(h) out. */
const scanBody: Graph = (() => {
  const h = makeNode('input', [], { name: 'h', dtype: 'float32', shape: ['N', 4] });
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 2] });
  return { name: 'body', inputs: [h, x], outputs: [{ name: 'h', node: makeNode('tanh', [h]) }] };
})();

/** A valid use of every op (a new op without one fails to typecheck here). */
const EXAMPLES: { [K in OpName]: Example } = {
  input: { attrs: { name: 'x', dtype: 'float32', shape: ['N', 4] } },
  param: { attrs: { name: 'w', dtype: 'float32', shape: [4], init: { kind: 'uniform', low: -1, high: 1 }, trainable: true, regularizer: { l1: 0, l2: 0.1 } } },
  const: { attrs: { dtype: 'float32', shape: [2], values: [1, 2] } },
  scan: { inputs: [f('N', 4), f('N', 3, 2)], attrs: { body: scanBody, steps: 3, reverse: false, sequenceCount: 1, stack: true } },
  neg: unary, abs: unary, exp: unary, log: unary, sqrt: unary, erf: unary, relu: unary, sigmoid: unary, tanh: unary, selu: unary, softplus: unary,
  leakyRelu: { inputs: [f('N', 4)], attrs: { alpha: 0.1 } },
  elu: { inputs: [f('N', 4)], attrs: { alpha: 1 } },
  celu: { inputs: [f('N', 4)], attrs: { alpha: 1 } },
  gelu: { inputs: [f('N', 4)], attrs: { approximate: 'tanh' } },
  clip: { inputs: [f('N', 4)], attrs: { min: -1, max: 1 } },
  cast: { inputs: [f('N', 4)], attrs: { to: 'float64' } },
  add: binary, sub: binary, mul: binary, div: binary, pow: binary, maximum: binary, minimum: binary,
  matmul: { inputs: [f('N', 4), f(4, 3)], attrs: { transA: false, transB: false } },
  conv2d: { inputs: [f('N', 2, 5, 5), f(3, 2, 3, 3)], attrs: { ...win, group: 1 } },
  maxPool2d: { inputs: [f('N', 2, 4, 4)], attrs: pool },
  avgPool2d: { inputs: [f('N', 2, 4, 4)], attrs: pool },
  globalAvgPool: { inputs: [f('N', 2, 4, 4)], attrs: {} },
  reduceSum: { inputs: [f('N', 4)], attrs: { axes: [1], keepdims: false } },
  reduceMean: { inputs: [f('N', 4)], attrs: { axes: [1], keepdims: true } },
  reduceMax: { inputs: [f('N', 4)], attrs: { axes: [1], keepdims: false } },
  reduceMin: { inputs: [f('N', 4)], attrs: { axes: [], keepdims: false } },
  argmax: { inputs: [f('N', 4)], attrs: { axis: 1, keepdims: false } },
  softmax: { inputs: [f('N', 4)], attrs: { axis: -1 } },
  logSoftmax: { inputs: [f('N', 4)], attrs: { axis: -1 } },
  reshape: { inputs: [f('N', 4)], attrs: { shape: [-1, 2, 2] } },
  identity: unary,
  dropout: { inputs: [f('N', 4)], attrs: { rate: 0.5 } },
  transpose: { inputs: [f('N', 2, 3)], attrs: { perm: [0, 2, 1] } },
  concat: { inputs: [f('N', 4), f('N', 2)], attrs: { axis: 1 } },
  slice: { inputs: [f('N', 6)], attrs: { starts: [1], ends: [5], axes: [1], steps: [2] } },
  batchNorm: { inputs: [f('N', 2, 3), f(2), f(2), f(2), f(2)], attrs: { epsilon: 1e-5, momentum: 0.9 } },
  dropoutMask: { inputs: [f('N', 4), f()], attrs: { rate: 0.5 } },
  batchSize: { attrs: { dtype: 'float32' } },
  step: unary, sign: unary,
  isEqual: binary,
  expand: { inputs: [f(1, 4)], attrs: { shape: [3, 4] } },
  oneHot: { inputs: [i32('N')], attrs: { depth: 3 } },
  conv2dBackwardInput: { inputs: [f('N', 3, 5, 5), f(3, 2, 3, 3)], attrs: { ...win, group: 1, inputShape: ['N', 2, 5, 5] } },
  conv2dBackwardFilter: { inputs: [f('N', 3, 5, 5), f('N', 2, 5, 5)], attrs: { ...win, group: 1, inputShape: [3, 2, 3, 3] } },
  maxPool2dBackward: { inputs: [f('N', 2, 2, 2), f('N', 2, 4, 4), f('N', 2, 2, 2)], attrs: pool },
  avgPool2dBackward: { inputs: [f('N', 2, 2, 2), f(2, 2)], attrs: { ...pool, inputShape: ['N', 2, 4, 4] } },
  sliceBackward: { inputs: [f('N', 2)], attrs: { starts: [1], ends: [5], axes: [1], steps: [2], inputShape: ['N', 6] } },
  gather: { inputs: [f(5, 3), i32(2)], attrs: { axis: 0 } },
  gatherElements: { inputs: [f(3, 4), i32(3, 2)], attrs: { axis: 1 } },
  compare: { inputs: [f('N', 4), f('N', 4)], attrs: { op: 'lt' } },
  where: { inputs: [i32('N', 4), f('N', 4), f('N', 4)], attrs: {} },
  pad: { inputs: [f('N', 4)], attrs: { pads: [0, 1, 0, 1], mode: 'constant', value: 0 } },
  roundFloat: { inputs: [f('N', 4)], attrs: { mantissa: 10, minExp: -14, max: 65504, overflow: 'inf', inf: 'inf', nanToZero: false, mode: 'nearest', least: 0 } },
  roundInt: { inputs: [f('N', 4)], attrs: { min: -8, max: 7 } },
  poolNd: { inputs: [f('N', 1, 4, 4, 4)], attrs: { ...pool3, mode: 'avg' } },
  maxPoolIndices: { inputs: [f(1, 1, 4, 4, 4)], attrs: { ...pool3, mode: 'max', columnMajor: false } },
};

/**
 * The attributes that legitimately accept a payload of some kind, by that kind: names are any
 * string (they reach generated code only as string literals); clip bounds and a pad value may be
 * NaN; real-valued attributes take 2^40 (a float32 value), though never 1e300. Everything else
 * must reject every payload.
 */
const ACCEPTS: Record<string, readonly string[]> = {
  'input.name': ['code string'],
  'param.name': ['code string'],
  'clip.min': ['NaN', '2^40'],
  'clip.max': ['NaN', '2^40'],
  'pad.value': ['NaN', '2^40'],
  'leakyRelu.alpha': ['2^40'],
  'elu.alpha': ['2^40'],
  'celu.alpha': ['2^40'],
  'batchNorm.epsilon': ['2^40'],
  'batchNorm.momentum': ['2^40'],
  'roundFloat.max': ['2^40'],
  'roundFloat.least': ['2^40'],
};

const PAYLOADS: [string, unknown][] = [
  ['code string', PAYLOAD],
  ['object', { toString: PAYLOAD, valueOf: PAYLOAD }],
  ['NaN', NaN],
  ['huge number', 1e300],
  ['2^40', 2 ** 40],
];

let leafCount = 0;
function leaves(ex: Example): Node[] {
  return (ex.inputs ?? []).map(([shape, dtype]) => makeNode('input', [], { name: `in${leafCount++}`, dtype: dtype ?? 'float32', shape }));
}

/** The example as a graph (its leaves as inputs), for the JSON path and for compiling. */
function exampleGraph(op: OpName, attrs: Record<string, unknown>): Graph {
  const ins = leaves(EXAMPLES[op]);
  const node = makeNode(op, ins, attrs);
  return { name: `g_${op}`, inputs: op === 'input' ? [node] : ins.length ? ins : [], outputs: [{ name: 'y', node }] };
}

/** What happened to a build: 'accepted', or the error (which must be a KilnError). */
function attempt(build: () => unknown): 'accepted' | Error {
  try {
    build();
    return 'accepted';
  } catch (e) {
    return e as Error;
  }
}

/** The JSON form's own spelling of a payload: NaN tagged (JSON has no NaN). */
const asJson = (v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? { $number: 'NaN' } : v);

const opNames = Object.keys(OPS) as OpName[];

describe('every attribute of every op rejects payloads', () => {
  it('has an example for every op of the OPS table, each valid', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual([...opNames].sort());
    for (const op of opNames) expect(() => exampleGraph(op, EXAMPLES[op].attrs), op).not.toThrow();
  });

  it.each(opNames)('%s', (op) => {
    const ex = EXAMPLES[op];
    const keys = [...new Set([...Object.keys(OPS[op].attrs), ...Object.keys(ex.attrs), 'unknownKey'])];
    const valid = graphToJson(exampleGraph(op, ex.attrs));
    for (const key of keys) {
      for (const [kind, payload] of PAYLOADS) {
        const attrs = { ...ex.attrs, [key]: payload };
        const json: GraphJson = JSON.parse(JSON.stringify(valid));
        json.nodes[json.nodes.length - 1].attrs[key] = asJson(payload);
        const expected = ACCEPTS[`${op}.${key}`]?.includes(kind) ? 'accepted' : 'rejected';
        for (const [path, build] of [
          ['makeNode', () => makeNode(op, leaves(ex), attrs)],
          ['graph JSON', () => graphFromJson(JSON.parse(JSON.stringify(json)))],
        ] as const) {
          const outcome = attempt(build);
          const what = `${op}.${key} = ${kind} via ${path}`;
          if (expected === 'rejected') {
            expect(outcome, what).toBeInstanceOf(KilnError);
            expect((outcome as Error).message, what).toMatch(new RegExp(`\\(${op}\\).*(unknown )?attribute "?${key}`));
            expect((outcome as Error).message, what).not.toContain('\n');
          } else {
            expect(outcome, what).toBe('accepted');
          }
        }
      }
    }
  });

  it('rejects payloads inside nested attributes and list elements', () => {
    const cases: [OpName, Record<string, unknown>, RegExp][] = [
      ['param', { ...EXAMPLES.param.attrs, init: { kind: 'uniform', low: PAYLOAD, high: 1 } }, /attribute init\.low must be a finite number/],
      ['param', { ...EXAMPLES.param.attrs, init: { kind: PAYLOAD } }, /attribute init\.kind must be one of/],
      ['param', { ...EXAMPLES.param.attrs, init: { kind: 'constant', value: 1, extra: PAYLOAD } }, /unknown attribute "init\.extra"/],
      ['param', { ...EXAMPLES.param.attrs, regularizer: { l2: PAYLOAD } }, /attribute regularizer\.l2/],
      ['poolNd', { ...EXAMPLES.poolNd.attrs, countedPads: [PAYLOAD, 0, 0, 0, 0, 0] }, /attribute countedPads\[0\] must be an integer in \[0, 2147483647\], got "0\+\(globalThis/],
      ['conv2d', { ...EXAMPLES.conv2d.attrs, strides: [1e300, 1] }, /attribute strides\[0\]/],
      ['conv2d', { ...EXAMPLES.conv2d.attrs, pads: [2 ** 40, 0, 0, 0] }, /attribute pads\[0\]/],
      ['const', { dtype: 'float32', shape: [2], values: [1, PAYLOAD] }, /attribute values\[1\]/],
      ['reshape', { shape: [-1, { valueOf: () => 4 }] }, /attribute shape\[1\]/],
    ];
    for (const [op, attrs, message] of cases) {
      const outcome = attempt(() => makeNode(op, leaves(EXAMPLES[op]), attrs));
      expect(outcome, `${op} ${message}`).toBeInstanceOf(KilnError);
      expect((outcome as Error).message).toMatch(message);
    }
  });

  it('reads an attribute once and keeps its checked copy (a getter cannot change it later)', () => {
    let reads = 0;
    const attrs = {
      get alpha() {
        reads++;
        return reads === 1 ? 0.5 : PAYLOAD;
      },
    };
    const node = makeNode('leakyRelu', leaves(EXAMPLES.leakyRelu), attrs);
    expect(node.attrs.alpha).toBe(0.5);
    expect(Object.getOwnPropertyDescriptor(node.attrs, 'alpha')?.get).toBeUndefined();
  });

  it('compiles and runs the accepted payloads without running them', async () => {
    // Names may be any string; NaN clip bounds and pad values are numbers.
    const x = makeNode('input', [], { name: PAYLOAD, dtype: 'float32', shape: ['N', 4] });
    const w = makeNode('param', [], { name: PAYLOAD + '/w', dtype: 'float32', shape: [4], init: { kind: 'ones' }, trainable: true });
    const clipped = makeNode('clip', [makeNode('add', [x, w])], { min: -Infinity, max: 2 });
    const padded = makeNode('pad', [x], { pads: [0, 1, 0, 0], mode: 'constant', value: NaN });
    const g: Graph = { name: 'accepted', inputs: [x], outputs: [{ name: 'clipped', node: clipped }, { name: 'padded', node: padded }] };
    const { model } = await compileAndLoad(graphFromJson(JSON.parse(JSON.stringify(graphToJson(g)))), 'hardening-attrs', 'accepted');
    const got = model.run({ [PAYLOAD]: Float32Array.from([-1, 0, 1, 2]) }, 1);
    expect(Array.from(got.clipped)).toEqual([0, 1, 2, 2]);
    expect(Array.from(got.padded).map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(['NaN', -1, 0, 1, 2]);
  });
});

describe('renderers write only numbers as numbers', () => {
  it('throws an internal error, not code, when a non-number reaches a kernel literal', () => {
    const g = exampleGraph('relu', {});
    const k = compileGraph(g).program.kernels[0];
    const bad = { ...k, expr: E.add(k.expr, E.num(PAYLOAD as unknown as number)) };
    expect(() => renderJsKernel(bad)).toThrow(/^internal: a string reached a renderer as a number/);
    expect(() => renderGpuJsKernel(bad)).toThrow(/^internal: a string reached a renderer as a number/);
    const badVar = { ...k, expr: E.add(k.expr, E.v(`o0; globalThis.__pwned = 1; //`)) };
    expect(() => renderJsKernel(badVar)).toThrow(/^internal: .* reached a renderer as an identifier/);
  });
});

describe('the payloads found in review, end to end', () => {
  /** A graph JSON file with one attribute of its last node replaced (by `mutate`). */
  function payloadFile(name: string, g: Graph, mutate: (attrs: Record<string, unknown>) => void): string {
    const json = graphToJson(g);
    mutate(json.nodes[json.nodes.length - 1].attrs);
    const file = path.join(freshOutDir(`hardening-${name}`), `${name}.json`);
    writeFileSync(file, JSON.stringify(json));
    return file;
  }

  const write = "0+(process.stdout.write('X'),0)";
  const cases: [string, Graph, (a: Record<string, unknown>) => void, RegExp][] = [
    ['poolnd-counted-pads', exampleGraph('poolNd', EXAMPLES.poolNd.attrs), (a) => ((a.countedPads as unknown[])[5] = write), /\(poolNd\).*attribute countedPads\[5\] must be an integer/],
    ['poolnd-counted-pads-whole', exampleGraph('poolNd', EXAMPLES.poolNd.attrs), (a) => (a.countedPads = write), /\(poolNd\).*attribute countedPads must be a list of 2 to 128 integers/],
    ['roundfloat-least', exampleGraph('roundFloat', EXAMPLES.roundFloat.attrs), (a) => (a.least = write), /\(roundFloat\).*attribute least must be a finite number/],
  ];

  it.each(cases)('%s: check and compile fail with one line naming op and attribute; nothing is written or run', async (name, g, mutate, message) => {
    const file = payloadFile(name, g, mutate);
    expect(() => compileModel(graphFromJson(JSON.parse(JSON.stringify(graphToJson(g)))))).not.toThrow();
    const check = await kiln('check', file);
    expect(check.status, showRun(check)).toBe(1);
    expect(check.stderr + check.stdout).toMatch(message);
    expect(check.stdout).not.toContain('X');
    const out = path.join(path.dirname(file), 'build');
    const compile = await kiln('compile', file, '--out', out);
    expect(compile.status, showRun(compile)).toBe(1);
    expect(compile.stderr + compile.stdout).toMatch(message);
    expect(compile.stdout).not.toContain('X');
  }, 60_000);
});
