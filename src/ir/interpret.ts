// The reference interpreter: the definition of what a graph computes, written for clarity.
//
// Each node is lowered alone (no fusion) to the kernel language and its expression evaluated
// once per output element by a tree walk. Compiled modules are tested against this.
import { allocate, type TypedArray } from './dtype.ts';
import type { BinaryOp, Expr, UnaryOp } from './expr.ts';
import { BATCH_VAR } from './expr.ts';
import { internal, KilnError } from './errors.ts';
import { graphNodes, topoSort, type Graph } from './graph.ts';
import { expandComposite, freshNames, lowerNode, outVars } from './lowering.ts';
import type { Node } from './node.ts';
import { opDef } from './ops/index.ts';
import type { ScanAttrs } from './ops/scan.ts';
import { BATCH, formatShape, numel, strides, type Shape } from './shape.ts';
import { constantData } from './constant.ts';
import { erf, hashUniform } from '../../runtime/math.ts';

/** A buffer with the shape it is read through. */
interface Operand {
  data: TypedArray;
  strides: number[];
}

/** Runs `graph` on `feeds` (by input name) and `weights` (by parameter name). */
export function interpret(
  graph: Graph,
  feeds: Record<string, TypedArray>,
  weights: Record<string, TypedArray>,
  batch: number,
): Record<string, TypedArray> {
  const values = new Map<Node, TypedArray>();
  // Nodes in topological order, so every input is known before its reader: no recursion, however deep the graph.
  const evaluateAll = (order: readonly Node[]): void => {
    for (const n of order) if (!values.has(n)) values.set(n, evaluateNode(n, valueOf, evaluateAll, feeds, weights, batch));
  };
  const valueOf = (n: Node): TypedArray => values.get(n) ?? internal(`node %${n.id} (${n.op}) read before it was evaluated`);
  evaluateAll(graphNodes(graph));
  return Object.fromEntries(graph.outputs.map((o) => [o.name, valueOf(o.node)]));
}

function evaluateNode(
  node: Node,
  valueOf: (n: Node) => TypedArray,
  evaluateAll: (order: readonly Node[]) => void,
  feeds: Record<string, TypedArray>,
  weights: Record<string, TypedArray>,
  batch: number,
): TypedArray {
  const def = opDef(node.op);
  const size = numel(node.type.shape, batch);
  if (node.op === 'scan') return evaluateScan(node, valueOf, batch);
  switch (def.kind) {
    case 'source':
      return sourceValue(node, feeds, weights, size);
    case 'view':
      return valueOf(node.inputs[0]);
    case 'composite': {
      // The expansion's leaves are this node's inputs, already evaluated.
      const expanded = expandComposite(node);
      evaluateAll(topoSort([expanded]));
      return valueOf(expanded);
    }
    default: {
      const operands = node.inputs.map((i) => ({ data: valueOf(i), strides: strides(i.type.shape) }));
      const expr = lowerNode(node, outVars(node.type.shape.length), (i, index) => ({ k: 'load', input: i, index }), freshNames());
      return fill(node.type.shape, node, expr, operands, batch);
    }
  }
}

/** Rows of a [R, …] tensor: its first dimension, the batch or a literal. */
const rowsOf = (shape: Shape, batch: number): number => (shape[0] === BATCH ? batch : (shape[0] as number));

/**
 * scan, by definition: the body interpreted once per step on the carry, each sequence's time
 * slice t (of [R, T, …]) and the invariants; the new carry stacked at time t, or kept alone.
 */
function evaluateScan(node: Node, valueOf: (n: Node) => TypedArray, batch: number): TypedArray {
  const a = node.attrs as unknown as ScanAttrs;
  const { body, steps: T, sequenceCount: S } = a;
  const name = (i: number) => String(body.inputs[i].attrs.name);
  const carryShape = node.inputs[0].type.shape;
  let carry = valueOf(node.inputs[0]);
  const stacked = a.stack ? allocate(node.type.dtype, numel(node.type.shape, batch)) : undefined;
  for (let k = 0; k < T; k++) {
    const t = a.reverse ? T - 1 - k : k;
    const feeds: Record<string, TypedArray> = { [name(0)]: carry };
    node.inputs.slice(1).forEach((x, j) => {
      const data = valueOf(x);
      if (j >= S) feeds[name(j + 1)] = data;
      else feeds[name(j + 1)] = timeSlice(data, rowsOf(x.type.shape, batch), T, numel(x.type.shape.slice(2)), t);
    });
    carry = interpret(body, feeds, {}, batch)[body.outputs[0].name];
    if (stacked) {
      const width = numel(carryShape.slice(1));
      for (let r = 0; r < rowsOf(carryShape, batch); r++) stacked.set(carry.subarray(r * width, (r + 1) * width), (r * T + t) * width);
    }
  }
  return stacked ?? carry;
}

/** Time slice `t` of a row-major [rows, T, width] array: [rows, width]. */
function timeSlice(data: TypedArray, rows: number, T: number, width: number, t: number): TypedArray {
  const out = allocate(data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : 'float32', rows * width);
  for (let r = 0; r < rows; r++) out.set(data.subarray((r * T + t) * width, (r * T + t + 1) * width), r * width);
  return out;
}

function sourceValue(node: Node, feeds: Record<string, TypedArray>, weights: Record<string, TypedArray>, size: number): TypedArray {
  const name = node.attrs.name as string;
  if (node.op === 'const') return constantData(node);
  // Own properties only: an input named `constructor` must not find Object's.
  const given = node.op === 'input' ? feeds : weights;
  const value = Object.hasOwn(given, name) ? given[name] : undefined;
  if (!value) throw new KilnError(`no value given for ${node.op} '${name}'`);
  if (value.length !== size) {
    throw new KilnError(`${node.op} '${name}' has ${value.length} elements, expected ${size} for shape ${formatShape(node.type.shape)}`);
  }
  return value;
}

/** Evaluates `expr` at every output index, row-major. */
function fill(shape: Shape, node: Node, expr: Expr, operands: Operand[], batch: number): TypedArray {
  const dims = shape.map((d) => (d === BATCH ? batch : d));
  const out = allocate(node.type.dtype, numel(shape, batch));
  const env = new Map<string, number>([[BATCH_VAR, batch]]);
  const index = new Array<number>(dims.length).fill(0);
  for (let flat = 0; flat < out.length; flat++) {
    index.forEach((x, i) => env.set(`o${i}`, x));
    out[flat] = evalExpr(expr, env, operands);
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++index[d] < dims[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** The meaning of each unary ALU op (documented in expr.ts); every renderer matches it. */
const UNARY: { readonly [K in UnaryOp]: (x: number) => number } = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  floor: Math.floor,
  sign: Math.sign,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  erf,
};

/** The meaning of each binary ALU op (documented in expr.ts); every renderer matches it. */
const BINARY: { readonly [K in BinaryOp]: (a: number, b: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  idiv: (a, b) => Math.floor(a / b),
  mod: (a, b) => a - b * Math.floor(a / b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  and: (a, b) => +(a !== 0 && b !== 0),
  or: (a, b) => +(a !== 0 || b !== 0),
  hashUniform,
};

function evalExpr(e: Expr, env: Map<string, number>, operands: Operand[]): number {
  switch (e.k) {
    case 'const':
      return e.value;
    case 'var':
      return env.get(e.name)!;
    case 'load': {
      const { data, strides: s } = operands[e.input];
      let offset = 0;
      e.index.forEach((i, d) => (offset += evalExpr(i, env, operands) * s[d]));
      return data[offset];
    }
    case 'unary':
      return UNARY[e.op](evalExpr(e.a, env, operands));
    case 'binary':
      return BINARY[e.op](evalExpr(e.a, env, operands), evalExpr(e.b, env, operands));
    case 'select':
      // Non-zero, NaN included, is true (expr.ts): not JavaScript's truthiness, for which NaN is false.
      return evalExpr(e.cond, env, operands) !== 0 ? evalExpr(e.a, env, operands) : evalExpr(e.b, env, operands);
    case 'reduce':
      return evalReduce(e, env, operands);
    default:
      return e satisfies never;
  }
}

/**
 * The value of one expression with loop variables `vars`, reading 1-D `inputs` (load index
 * expressions are flat offsets): how tests check an ALU op's meaning on its own.
 */
export function evaluateExpr(e: Expr, vars: Readonly<Record<string, number>>, inputs: readonly TypedArray[] = []): number {
  const env = new Map<string, number>(Object.entries(vars));
  return evalExpr(e, env, inputs.map((data) => ({ data, strides: [1] })));
}

function evalReduce(e: Extract<Expr, { k: 'reduce' }>, env: Map<string, number>, operands: Operand[]): number {
  const extents = e.vars.map((r) => (r.extent === BATCH ? env.get(BATCH_VAR)! : r.extent));
  let acc = e.op === 'sum' ? 0 : e.op === 'min' || e.op === 'argmin' ? Infinity : -Infinity;
  let best = 0;
  const visit = (depth: number, flat: number): void => {
    if (depth === e.vars.length) {
      const x = evalExpr(e.body, env, operands);
      if (e.op === 'sum') acc += x;
      else if (e.op === 'max') acc = Number.isNaN(x) || x > acc ? x : acc;
      else if (e.op === 'min') acc = Number.isNaN(x) || x < acc ? x : acc;
      else if (e.op === 'argmax' ? x > acc : x < acc) [acc, best] = [x, flat];
      return;
    }
    for (let i = 0; i < extents[depth]; i++) {
      env.set(e.vars[depth].name, i);
      visit(depth + 1, flat * extents[depth] + i);
    }
  };
  visit(0, 0);
  return e.op === 'argmax' || e.op === 'argmin' ? best : acc;
}
