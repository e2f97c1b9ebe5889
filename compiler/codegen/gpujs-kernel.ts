// The GPU.js renderer: a pure function from a lowered kernel to the source of one GPU.js kernel.
//
// GPU.js runs a kernel once per output element (a fragment shader on WebGL) and transpiles its
// JavaScript to GLSL, which fixes the shape of what we emit:
// - every output is flat (`output: [elements]`): GPU.js packs a 1-D output into a near-square
//   texture, so an output only has to fit in maxTextureSize² elements, not one texture row;
// - each thread decodes its flat index into the multi-index with exact integer division
//   (`kIdiv`: float division corrected by its remainder, as GPUs divide approximately);
// - every loop bound is a literal, except reductions over the batch, which GPU.js caps at the
//   kernel's `loopMaxIterations` (the emitted module sets it to the maximum batch and checks it);
// - numbers are float32; tanh, pow and the dropout hash are spelled in forms that stay defined
//   in GLSL for every argument (no NaN from `tanh(50)`, no undefined `pow` of a negative base).
import type { BinaryOp, Expr, UnaryOp } from '../../src/ir/expr.ts';
import { BATCH_VAR, reductions } from '../../src/ir/expr.ts';
import { BATCH, formatShape, sampleSize, strides, type Dim } from '../../src/ir/shape.ts';
import { describeOps, type Kernel } from '../lower/kernel.ts';
import { inputName } from './js.ts';
import { identifier, intLiteral, numberLiteral } from './literal.ts';
import { commentSafe } from './names.ts';

/** GLSL has no Infinity literal; 1/0 is +Infinity on IEEE hardware (every WebGL2 GPU, and wasm). */
const INFINITY = '(1.0 / 0.0)';

/**
 * Helper functions every kernel may call, registered with GPU.js through the `functions` kernel
 * setting (GPU.js cannot type nested functions). Each is GLSL-safe for every float32 argument.
 */
export const GPUJS_HELPERS: Readonly<Record<string, string>> = {
  kIdiv: `function kIdiv(a, b) {
  // floor(a / b) for integer-valued a, b: GLSL's division may be off by an ulp, so the quotient
  // is corrected until its remainder lies between 0 and b (b excluded), for either sign of b.
  let q = Math.floor(a / b);
  const r = a - q * b;
  if (b > 0.0) {
    if (r < 0.0) { q = q - 1.0; }
    if (r >= b) { q = q + 1.0; }
  }
  if (b < 0.0) {
    if (r > 0.0) { q = q - 1.0; }
    if (r <= b) { q = q + 1.0; }
  }
  return q;
}`,
  kMod: `function kMod(a, b) {
  // Floor modulo (src/ir/expr.ts): the sign of the divisor, a - b * floor(a / b).
  return a - b * kIdiv(a, b);
}`,
  kTanh: `function kTanh(x) {
  // exp of a non-positive number only: finite for every x.
  const e = Math.exp(-2.0 * Math.abs(x));
  const t = (1.0 - e) / (1.0 + e);
  if (x < 0.0) { return -t; }
  return t;
}`,
  kSigmoid: `function kSigmoid(x) {
  // exp of a non-positive number only, as tanh.
  const e = Math.exp(-Math.abs(x));
  if (x >= 0.0) { return 1.0 / (1.0 + e); }
  return e / (1.0 + e);
}`,
  kPow: `function kPow(a, b) {
  // GLSL's pow is undefined for a < 0 and for a = 0, b <= 0; JavaScript's is not.
  if (a > 0.0) { return Math.pow(a, b); }
  if (a === 0.0) {
    // -0 to an odd integer power keeps its sign, as Math.pow: pow(-0, 3) = -0, pow(-0, -1) = -inf.
    let s = 1.0;
    if (1.0 / a < 0.0 && Math.floor(b) === b && Math.floor(b * 0.5) !== b * 0.5) { s = -1.0; }
    if (b > 0.0) { return s * 0.0; }
    if (b < 0.0) { return s * ${INFINITY}; }
    if (b === 0.0) { return 1.0; }
    return 0.0 / 0.0;
  }
  if (Math.floor(b) !== b) { return 0.0 / 0.0; }
  const m = Math.pow(-a, b);
  const half = b * 0.5;
  if (Math.floor(half) === half) { return m; }
  return -m;
}`,
  kErf: `function kErf(x) {
  // Abramowitz and Stegun 7.1.26 (error below 1.5e-7, under float32's resolution near 1).
  const a = Math.abs(x);
  const t = 1.0 / (1.0 + 0.3275911 * a);
  const p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const y = 1.0 - p * Math.exp(-a * a);
  if (x < 0.0) { return -y; }
  return y;
}`,
  kHash3: `function kHash3(a, b, c) {
  // A float-only hash of three numbers below 4096 (Hoskins' hash13): GLSL ES has no 32-bit
  // integer multiply that GPU.js exposes, so the JS backend's murmur mix cannot be used.
  let x = a * 0.1031;
  let y = b * 0.1031;
  let z = c * 0.1031;
  x = x - Math.floor(x);
  y = y - Math.floor(y);
  z = z - Math.floor(z);
  const d = x * (z + 31.32) + y * (y + 31.32) + z * (x + 31.32);
  x = x + d;
  y = y + d;
  z = z + d;
  const h = (x + y) * z;
  return h - Math.floor(h);
}`,
  kHash: `function kHash(seed, index) {
  // A uniform number in [0, 1) from (seed, index), both integers below 2^24, split into
  // 12-bit pieces so every product above is exact enough in float32.
  const hi = Math.floor(index / 4096.0);
  const lo = index - hi * 4096.0;
  const sHi = Math.floor(seed / 4096.0);
  const sLo = seed - sHi * 4096.0;
  return kHash3(lo, hi, kHash3(sLo, sHi, 7.0) * 4096.0);
}`,
};

/** The helpers a kernel source calls, including the helpers those call. */
export function helpersUsed(source: string): string[] {
  const used = new Set<string>();
  const visit = (text: string) => {
    for (const name of Object.keys(GPUJS_HELPERS)) {
      if (!used.has(name) && text.includes(`${name}(`)) {
        used.add(name);
        visit(GPUJS_HELPERS[name].slice(GPUJS_HELPERS[name].indexOf('{')));
      }
    }
  };
  visit(source);
  return Object.keys(GPUJS_HELPERS).filter((n) => used.has(n));
}

const UNARY: Record<UnaryOp, (a: string) => string> = {
  neg: (a) => `-${a}`,
  abs: (a) => `Math.abs(${a})`,
  exp: (a) => `Math.exp(${a})`,
  log: (a) => `Math.log(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  tanh: (a) => `kTanh(${a})`,
  erf: (a) => `kErf(${a})`,
  floor: (a) => `Math.floor(${a})`,
  sign: (a) => `Math.sign(${a})`,
  log1p: (a) => `Math.log(1.0 + ${a})`,
  expm1: (a) => `(Math.exp(${a}) - 1.0)`,
  sigmoid: (a) => `kSigmoid(${a})`,
};

/** Comparisons and logic yield booleans; `numeric` turns one into 1.0 or 0.0. */
type BooleanOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'and' | 'or';
const BOOLEAN: Record<BooleanOp, string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '===', ne: '!==', and: '&&', or: '||' };

const BINARY: Record<Exclude<BinaryOp, BooleanOp>, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `${a} / ${b}`,
  pow: (a, b) => `kPow(${a}, ${b})`,
  max: (a, b) => `Math.max(${a}, ${b})`,
  min: (a, b) => `Math.min(${a}, ${b})`,
  idiv: (a, b) => `kIdiv(${a}, ${b})`,
  mod: (a, b) => `kMod(${a}, ${b})`,
  hashUniform: (a, b) => `kHash(${a}, ${b})`,
};

/** A float literal GLSL accepts: always with a decimal point or exponent; infinities and NaN as divisions. */
export function floatLiteral(v: number): string {
  const s = numberLiteral(Object.is(v, -0) ? 0 : v);
  if (s === 'NaN') return '(0.0 / 0.0)';
  if (s === 'Infinity') return INFINITY;
  if (s === '-Infinity') return `(-1.0 / 0.0)`;
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const isBoolean = (e: Expr) => e.k === 'binary' && e.op in BOOLEAN;

/** The GPU.js source for kernel `k`: `function (in0, in1, batch) { ... }`. */
export function renderGpuJsKernel(k: Kernel): string {
  return new GpuJsKernelWriter(k).render();
}

/** What a kernel computes, for the comment above its source. */
export function describeGpuJsKernel(k: Kernel): string[] {
  return [
    `${k.name}: ${commentSafe(describeOps(k))}${k.layers.length ? ` (${commentSafe(k.layers.join(', '))})` : ''}`,
    `out ${k.dtype}${formatShape(k.shape)}; ${k.inputs.map((t, i) => `${inputName(i)} ${t.dtype}${formatShape(t.shape)}`).join(', ')}.`,
  ];
}

class GpuJsKernelWriter {
  constructor(private readonly k: Kernel) {}

  render(): string {
    const k = this.k;
    const params = [...k.inputs.map((_, i) => inputName(i)), BATCH_VAR];
    const reduce = reductions(k.expr)[0] as Extract<Expr, { k: 'reduce' }> | undefined;
    // A JS backend stores an int32 result into an Int32Array, which truncates; so does this.
    const value = k.dtype === 'int32' ? `Math.trunc(${this.num(k.expr)})` : this.num(k.expr);
    const body = [...this.decode(), ...(reduce ? this.reduction(reduce) : []), `return ${value};`];
    // Anonymous: GPU.js names the kernel itself, and a reduction variable may be called `k0`.
    return [`function (${params.join(', ')}) {`, ...body.map((line) => `  ${line}`), `}`].join('\n');
  }

  /** `o0, o1, ...` from the flat thread index, by exact division with the output's strides. */
  private decode(): string[] {
    const shape = this.k.shape;
    if (shape.length === 0) return [];
    const lines = [`const flat = this.thread.x * 1.0;`];
    const s = strides(shape).map((x, d) => (d === 0 && shape[0] === BATCH ? sampleSize(shape) : x));
    let rest = 'flat';
    shape.forEach((_, d) => {
      if (d === shape.length - 1) {
        lines.push(`const o${d} = ${rest};`);
        return;
      }
      lines.push(`const o${d} = kIdiv(${rest}, ${floatLiteral(s[d])});`);
      lines.push(`const rest${d} = ${rest} - o${d} * ${floatLiteral(s[d])};`);
      rest = `rest${d}`;
    });
    return lines;
  }

  /** The kernel's one reduction, into `acc` (and `best` for argmax/argmin), by nested loops. */
  private reduction(e: Extract<Expr, { k: 'reduce' }>): string[] {
    const init = e.op === 'sum' ? '0.0' : floatLiteral(e.op === 'min' || e.op === 'argmin' ? Infinity : -Infinity);
    const lines = [`let acc = ${init};`];
    if (e.op === 'argmax' || e.op === 'argmin') lines.push(`let best = 0.0;`);
    e.vars.forEach((r, d) => {
      const v = identifier(r.name);
      lines.push(`${'  '.repeat(d)}for (let ${v} = 0; ${v} < ${extent(r.extent)}; ${v}++) {`);
    });
    const pad = '  '.repeat(e.vars.length);
    const x = this.num(e.body);
    if (e.op === 'sum') lines.push(`${pad}acc = acc + ${x};`);
    else if (e.op === 'max' || e.op === 'min') lines.push(`${pad}acc = Math.${e.op}(acc, ${x});`);
    else {
      const flat = e.vars.reduce((f, r, d) => (d === 0 ? identifier(r.name) : `(${f}) * ${extent(r.extent)} + ${identifier(r.name)}`), '');
      lines.push(`${pad}const value = ${x};`);
      lines.push(`${pad}if (value ${e.op === 'argmax' ? '>' : '<'} acc) {`, `${pad}  acc = value;`, `${pad}  best = ${flat};`, `${pad}}`);
    }
    e.vars.forEach((_, d) => lines.push(`${'  '.repeat(e.vars.length - 1 - d)}}`));
    return lines;
  }

  private num(e: Expr): string {
    return isBoolean(e) ? `(${this.bool(e)} ? 1.0 : 0.0)` : this.expr(e);
  }

  private bool(e: Expr): string {
    if (!isBoolean(e)) return `${this.num(e)} !== 0.0`;
    const b = e as Extract<Expr, { k: 'binary' }> & { op: BooleanOp };
    const logic = b.op === 'and' || b.op === 'or';
    const arg = (x: Expr) => (logic ? `(${this.bool(x)})` : this.num(x));
    return `${arg(b.a)} ${BOOLEAN[b.op]} ${arg(b.b)}`;
  }

  private expr(e: Expr): string {
    switch (e.k) {
      case 'const':
        return e.value < 0 ? `(${floatLiteral(e.value)})` : floatLiteral(e.value);
      case 'var':
        return identifier(e.name);
      case 'load':
        return `${inputName(e.input)}[${this.offset(e.index, this.k.inputs[e.input].shape)}]`;
      case 'unary':
        return `(${UNARY[e.op](this.num(e.a))})`;
      case 'binary':
        return `(${BINARY[e.op as keyof typeof BINARY](this.num(e.a), this.num(e.b))})`;
      case 'select':
        return `(${this.bool(e.cond)} ? ${this.num(e.a)} : ${this.num(e.b)})`;
      case 'reduce':
        return e.op === 'argmax' || e.op === 'argmin' ? 'best' : 'acc';
      default:
        return e satisfies never;
    }
  }

  /** Row-major flat offset of a multi-index; a leading batch dimension strides by a sample. */
  private offset(index: readonly Expr[], shape: readonly Dim[]): string {
    const s = strides(shape).map((x, d) => (d === 0 && shape[0] === BATCH ? sampleSize(shape) : x));
    const terms = index
      .map((e, d) => (e.k === 'const' && e.value === 0 ? '' : s[d] === 1 ? this.num(e) : `${this.num(e)} * ${floatLiteral(s[d])}`))
      .filter((t) => t !== '');
    return terms.length ? terms.join(' + ') : '0';
  }
}

const extent = (d: Dim) => (d === BATCH ? BATCH_VAR : intLiteral(d));
