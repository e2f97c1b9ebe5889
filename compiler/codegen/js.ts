// The JavaScript renderer: a pure function from a lowered kernel to the source of one function,
// loops with literal bounds (only the batch loop reads its bound at run time).
import type { BinaryOp, Expr, UnaryOp } from '../../src/ir/expr.ts';
import { exprKey } from '../../src/ir/expr.ts';
import { ARRAY_NAME } from '../../src/ir/dtype.ts';
import { BATCH, formatShape, strides, type Dim } from '../../src/ir/shape.ts';
import type { Kernel } from '../lower/kernel.ts';
import { schedule, type Loop, type Schedule, type Temp } from './schedule.ts';
import { commentSafe } from './names.ts';

/** How each ALU op is spelled in JavaScript. Comparisons yield booleans (see `asNumber`). */
export const JS_UNARY: Record<UnaryOp, (a: string) => string> = {
  neg: (a) => `-${a}`,
  abs: (a) => `Math.abs(${a})`,
  exp: (a) => `Math.exp(${a})`,
  log: (a) => `Math.log(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  tanh: (a) => `Math.tanh(${a})`,
  erf: (a) => `erf(${a})`,
  floor: (a) => `Math.floor(${a})`,
  sign: (a) => `Math.sign(${a})`,
  log1p: (a) => `Math.log1p(${a})`,
  expm1: (a) => `Math.expm1(${a})`,
  sigmoid: (a) => `1 / (1 + Math.exp(-${a}))`,
};

export const JS_BINARY: Record<BinaryOp, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `${a} / ${b}`,
  pow: (a, b) => `Math.pow(${a}, ${b})`,
  max: (a, b) => `Math.max(${a}, ${b})`,
  min: (a, b) => `Math.min(${a}, ${b})`,
  idiv: (a, b) => `Math.floor(${a} / ${b})`,
  mod: (a, b) => `${a} % ${b}`,
  lt: (a, b) => `${a} < ${b}`,
  le: (a, b) => `${a} <= ${b}`,
  gt: (a, b) => `${a} > ${b}`,
  ge: (a, b) => `${a} >= ${b}`,
  eq: (a, b) => `${a} === ${b}`,
  ne: (a, b) => `${a} !== ${b}`,
  and: (a, b) => `${a} && ${b}`,
  or: (a, b) => `${a} || ${b}`,
};

const BOOLEAN_OPS = new Set<BinaryOp>(['lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or']);
const isBoolean = (e: Expr) => e.k === 'binary' && BOOLEAN_OPS.has(e.op);

function literal(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return Object.is(v, -0) ? '-0' : String(v);
}

const extentJs = (d: Dim) => (d === BATCH ? 'batch' : String(d));

/** The names a kernel's parameters get in its function: `out`, `in0`, `in1`, ... */
export const inputName = (slot: number) => `in${slot}`;

class JsKernelWriter {
  private readonly lines: string[] = [];
  private readonly sched: Schedule;
  constructor(private readonly k: Kernel) {
    this.sched = schedule(k);
  }

  render(): string {
    const k = this.k;
    const params = ['batch: number', `out: ${ARRAY_NAME[k.dtype]}`, ...k.inputs.map((t, i) => `${inputName(i)}: ${ARRAY_NAME[t.dtype]}`)];
    const doc = [
      `/**`,
      ` * ${k.name}: ${commentSafe(k.ops.join(' → '))}${k.layers.length ? ` (${commentSafe(k.layers.join(', '))})` : ''}`,
      ` * out ${k.dtype}${formatShape(k.shape)}; ${k.inputs.map((t, i) => `${inputName(i)} ${t.dtype}${formatShape(t.shape)}`).join(', ')}`,
      ` */`,
    ];
    this.level(-1, 1);
    return [...doc, `function ${k.name}(${params.join(', ')}): void {`, ...this.lines, `}`].join('\n');
  }

  private emit(depth: number, line: string) {
    this.lines.push(`${'  '.repeat(depth)}${line}`);
  }

  private temps(level: number, afterReduce: boolean, depth: number) {
    for (const t of this.sched.temps) {
      if (t.level === level && t.afterReduce === afterReduce) this.emit(depth, `const ${t.name} = ${this.num(t.expr, t)};`);
    }
  }

  private loop(loop: Loop, depth: number, body: () => void) {
    this.emit(depth, `for (let ${loop.name} = 0; ${loop.name} < ${extentJs(loop.extent)}; ${loop.name}++) {`);
    body();
    this.emit(depth, `}`);
  }

  /** Emits loop level `level`'s temporaries and what nests inside it. */
  private level(level: number, depth: number) {
    const { outLoops } = this.sched;
    this.temps(level, false, depth);
    if (level < outLoops.length - 1) {
      this.loop(outLoops[level + 1], depth, () => this.level(level + 1, depth + 1));
      return;
    }
    if (this.sched.reduce) this.reduction(depth);
    this.temps(level, true, depth);
    const offset = this.offset(outLoops.map((l) => ({ k: 'var', name: l.name }) as Expr), this.k.shape);
    this.emit(depth, `out[${offset}] = ${this.num(this.k.expr)};`);
  }

  private reduction(depth: number) {
    const r = this.sched.reduce!;
    const init = r.op === 'sum' ? '0' : r.op === 'max' || r.op === 'argmax' ? '-Infinity' : 'Infinity';
    this.emit(depth, `let acc = ${init};`);
    if (r.op === 'argmax' || r.op === 'argmin') this.emit(depth, `let best = 0;`);
    const rank = this.sched.outLoops.length;
    const nest = (i: number, d: number): void => {
      if (i === r.vars.length) {
        const x = this.num(r.body);
        const cmp = r.op === 'argmax' ? '>' : '<';
        if (r.op === 'sum') this.emit(d, `acc += ${x};`);
        else if (r.op === 'argmax' || r.op === 'argmin') this.emit(d, `{ const x = ${x}; if (x ${cmp} acc) { acc = x; best = ${r.vars[0].name}; } }`);
        // NaN wins, as in the reference: once acc is NaN no comparison replaces it.
        else this.emit(d, `{ const x = ${x}; if (x ${r.op === 'max' ? '>' : '<'} acc || x !== x) acc = x; }`);
        return;
      }
      this.loop(this.sched.reduceLoops[i], d, () => {
        this.temps(rank + i, false, d + 1);
        nest(i + 1, d + 1);
      });
    };
    nest(0, depth);
  }

  /** Row-major linear offset of a multi-index into a tensor of `shape`. */
  private offset(index: readonly Expr[], shape: readonly Dim[]): string {
    const s = strides(shape);
    const terms = index
      .map((e, d) => (e.k === 'const' && e.value === 0 ? '' : s[d] === 1 ? this.num(e, undefined, true) : `${this.num(e)} * ${s[d]}`))
      .filter((t) => t !== '');
    return terms.length ? terms.join(' + ') : '0';
  }

  /** Renders `e` as a numeric JS expression; `self` is the temp being defined (not to be reused). */
  private num(e: Expr, self?: Temp, bare = false): string {
    const s = this.bool(e, self, bare);
    return isBoolean(e) ? `+(${s})` : s;
  }

  private bool(e: Expr, self?: Temp, bare = false): string {
    const t = this.sched.tempByKey.get(exprKey(e));
    if (t && t !== self) return t.name;
    const wrap = (s: string) => (bare ? s : `(${s})`);
    switch (e.k) {
      case 'const':
        return e.value < 0 && !bare ? `(${literal(e.value)})` : literal(e.value);
      case 'var':
        return e.name;
      case 'load':
        return `${inputName(e.input)}[${this.offset(e.index, this.k.inputs[e.input].shape)}]`;
      case 'unary':
        return wrap(JS_UNARY[e.op](this.num(e.a)));
      case 'binary': {
        const asBool = e.op === 'and' || e.op === 'or';
        const arg = (x: Expr) => (asBool && !isBoolean(x) ? `(${this.num(x)} !== 0)` : this.num(x));
        return wrap(JS_BINARY[e.op](arg(e.a), arg(e.b)));
      }
      case 'select': {
        const cond = isBoolean(e.cond) ? this.bool(e.cond) : `${this.num(e.cond)} !== 0`;
        return wrap(`${cond} ? ${this.num(e.a)} : ${this.num(e.b)}`);
      }
      case 'reduce':
        return this.sched.reduce?.op === 'argmax' || this.sched.reduce?.op === 'argmin' ? 'best' : 'acc';
      default:
        return e satisfies never;
    }
  }
}

/** Source of one kernel as a typed function declaration. */
export function renderJsKernel(k: Kernel): string {
  return new JsKernelWriter(k).render();
}
