// The JavaScript renderer: a pure function from a lowered kernel to the source of one function,
// loops with literal bounds (only the batch loop reads its bound at run time).
import type { BinaryOp, Expr, UnaryOp } from '../../src/ir/expr.ts';
import { exprKey, walk } from '../../src/ir/expr.ts';
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
  hashUniform: (a, b) => `hashUniform(${a}, ${b})`,
};

const BOOLEAN_OPS = new Set<BinaryOp>(['lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or']);
const isBoolean = (e: Expr) => e.k === 'binary' && BOOLEAN_OPS.has(e.op);

/** A number as JS source, exactly (keeps -0, spells Infinity and NaN). */
export function literal(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return Object.is(v, -0) ? '-0' : String(v);
}

const extentJs = (d: Dim) => (d === BATCH ? 'batch' : String(d));

/** Rows computed together in reduction-outer kernels (each weight read serves this many). */
const ROWS = 4;

/** The names a kernel's parameters get in its function: `out`, `in0`, `in1`, ... */
export const inputName = (slot: number) => `in${slot}`;

class JsKernelWriter {
  private readonly lines: string[] = [];
  private readonly sched: Schedule;
  /** In reduction-outer order, the row of accumulators over the last output dimension. */
  private readonly accRow: string;
  constructor(private readonly k: Kernel) {
    this.sched = schedule(k);
    this.accRow = `${k.name}_acc`;
  }

  render(): string {
    const k = this.k;
    const params = ['batch: number', `out: ${ARRAY_NAME[k.dtype]}`, ...k.inputs.map((t, i) => `${inputName(i)}: ${ARRAY_NAME[t.dtype]}`)];
    const order = this.sched.order === 'reductionOuter' ? ' Loop order: reduction outside the last output loop, which streams a row of accumulators.' : '';
    const doc = [
      `/**`,
      ` * ${k.name}: ${commentSafe(k.ops.join(' → '))}${k.layers.length ? ` (${commentSafe(k.layers.join(', '))})` : ''}`,
      ` * out ${k.dtype}${formatShape(k.shape)}; ${k.inputs.map((t, i) => `${inputName(i)} ${t.dtype}${formatShape(t.shape)}`).join(', ')}.${order}`,
      ` */`,
    ];
    const scratch: string[] = [];
    if (this.sched.order === 'reductionOuter') {
      const last = this.sched.outLoops[this.sched.outLoops.length - 1];
      scratch.push(`const ${this.accRow} = new Float64Array(${ROWS * Number(last.extent)});`);
      this.rowLevel(-1, 1);
    } else {
      this.level(-1, 1);
    }
    return [...scratch, ...doc, `function ${k.name}(${params.join(', ')}): void {`, ...this.lines, `}`].join('\n');
  }

  private emit(depth: number, line: string) {
    this.lines.push(`${'  '.repeat(depth)}${line}`);
  }

  private temps(level: number, depth: number, which: (t: Temp) => boolean) {
    for (const t of this.sched.temps) {
      if (t.level === level && which(t)) this.emit(depth, `const ${this.tempName(t)} = ${this.num(t.expr, t, true)};`);
    }
  }

  private loop(loop: Loop, depth: number, body: () => void) {
    this.emit(depth, `for (let ${loop.name} = 0; ${loop.name} < ${extentJs(loop.extent)}; ${loop.name}++) {`);
    body();
    this.emit(depth, `}`);
  }

  private store(depth: number) {
    const offset = this.offset(this.sched.outLoops.map((l) => ({ k: 'var', name: l.name }) as Expr), this.k.shape);
    this.emit(depth, `out[${offset}] = ${this.num(this.k.expr, undefined, true)};`);
  }

  /** Output-outer order: emits loop `level`'s temporaries and what nests inside it. */
  private level(level: number, depth: number) {
    const { outLoops } = this.sched;
    this.temps(level, depth, (t) => !t.afterReduce);
    if (level === outLoops.length - 2 && this.blocksColumns()) {
      this.columnBlocks(depth);
      return;
    }
    if (level < outLoops.length - 1) {
      this.loop(outLoops[level + 1], depth, () => this.level(level + 1, depth + 1));
      return;
    }
    if (this.sched.reduce) this.reduction(depth);
    this.temps(level, depth, (t) => t.afterReduce);
    this.store(depth);
  }

  /**
   * Whether to compute ROWS neighbouring outputs of the last dimension together in an
   * output-outer sum: worth it when some value the reduction reads does not depend on that
   * dimension (a row of x in x·Wᵀ), so one load serves every accumulator.
   */
  private blocksColumns(): boolean {
    const r = this.sched.reduce;
    const last = this.sched.outLoops[this.sched.outLoops.length - 1];
    if (!r || r.op !== 'sum' || last === undefined || last.extent === BATCH || Number(last.extent) < ROWS) return false;
    this.variant = { rowVar: last.name, u: 1 };
    const shared = this.sched.temps.some((t) => t.inBody && t.expr.k === 'load' && !this.dependsOnRow(t));
    this.variant = null;
    this.rowDependence.clear();
    return shared;
  }

  /** The last output loop blocked by ROWS: ROWS scalar accumulators share each row-free load. */
  private columnBlocks(depth: number) {
    const { outLoops } = this.sched;
    const rank = outLoops.length;
    const col = outLoops[rank - 1];
    const r = this.sched.reduce!;
    const body = (d: number, rows: number) => {
      const each = (f: (u: number) => void) => {
        for (let u = 0; u < rows; u++) {
          this.variant = rows > 1 ? { rowVar: col.name, u } : null;
          f(u);
        }
        this.variant = null;
      };
      const variantTemps = (level: number, dd: number, which: (t: Temp) => boolean) =>
        each((u) => this.temps(level, dd, (t) => which(t) && (u === 0 || this.dependsOnRow(t))));
      variantTemps(rank - 1, d, (t) => !t.afterReduce);
      each((u) => this.emit(d, `let ${u ? `acc_${u}` : 'acc'} = 0;`));
      const nest = (i: number, dd: number): void => {
        if (i === r.vars.length) {
          each((u) => this.emit(dd, `${u ? `acc_${u}` : 'acc'} += ${this.num(r.body, undefined, true)};`));
          return;
        }
        this.loop(this.sched.reduceLoops[i], dd, () => {
          variantTemps(rank + i, dd + 1, () => true);
          nest(i + 1, dd + 1);
        });
      };
      nest(0, d);
      each(() => {
        this.temps(rank - 1, d, (t) => t.afterReduce);
        this.store(d);
      });
    };
    const extent = Number(col.extent);
    this.emit(depth, `let ${col.name} = 0;`);
    this.emit(depth, `for (; ${col.name} + ${ROWS} <= ${extent}; ${col.name} += ${ROWS}) {`);
    body(depth + 1, ROWS);
    this.emit(depth, `}`);
    if (extent % ROWS) {
      this.emit(depth, `for (; ${col.name} < ${extent}; ${col.name}++) {`);
      body(depth + 1, 1);
      this.emit(depth, `}`);
    }
  }

  private reduction(depth: number) {
    const r = this.sched.reduce!;
    const init = r.op === 'sum' ? '0' : r.op === 'max' || r.op === 'argmax' ? '-Infinity' : 'Infinity';
    this.emit(depth, `let acc = ${init};`);
    if (r.op === 'argmax' || r.op === 'argmin') this.emit(depth, `let best = 0;`);
    const rank = this.sched.outLoops.length;
    const nest = (i: number, d: number): void => {
      if (i === r.vars.length) {
        const x = this.num(r.body, undefined, true);
        const cmp = r.op === 'argmax' ? '>' : '<';
        if (r.op === 'sum') this.emit(d, `acc += ${x};`);
        else if (r.op === 'argmax' || r.op === 'argmin') this.emit(d, `{ const x = ${x}; if (x ${cmp} acc) { acc = x; best = ${r.vars[0].name}; } }`);
        // NaN wins, as in the reference: once acc is NaN no comparison replaces it.
        else this.emit(d, `{ const x = ${x}; if (x ${r.op === 'max' ? '>' : '<'} acc || x !== x) acc = x; }`);
        return;
      }
      this.loop(this.sched.reduceLoops[i], d, () => {
        this.temps(rank + i, d + 1, () => true);
        nest(i + 1, d + 1);
      });
    };
    nest(0, depth);
  }

  /**
   * Reduction-outer order (sums only): zero the accumulator rows, accumulate, then the epilogue.
   * The loop over the second-to-last output dimension is blocked by ROWS, so every value read
   * in the innermost loop that does not depend on the row (a weight) serves ROWS outputs.
   */
  private rowLevel(level: number, depth: number) {
    const { outLoops } = this.sched;
    const rank = outLoops.length;
    this.temps(level, depth, () => true);
    if (level < rank - 3) {
      this.loop(outLoops[level + 1], depth, () => this.rowLevel(level + 1, depth + 1));
      return;
    }
    if (rank < 2) {
      this.rowBlock(depth, 1);
      return;
    }
    // The blocked row loop, then the rows left over one at a time.
    const row = outLoops[rank - 2];
    const extent = extentJs(row.extent);
    this.emit(depth, `let ${row.name} = 0;`);
    this.emit(depth, `for (; ${row.name} + ${ROWS} <= ${extent}; ${row.name} += ${ROWS}) {`);
    this.temps(rank - 2, depth + 1, () => true);
    this.rowBlock(depth + 1, ROWS);
    this.emit(depth, `}`);
    this.emit(depth, `for (; ${row.name} < ${extent}; ${row.name}++) {`);
    this.temps(rank - 2, depth + 1, () => true);
    this.rowBlock(depth + 1, 1);
    this.emit(depth, `}`);
  }

  /** Accumulates and finishes `rows` consecutive rows (rows > 1: variants per row offset). */
  private rowBlock(depth: number, rows: number) {
    const { outLoops, loops } = this.sched;
    const rank = outLoops.length;
    const last = outLoops[rank - 1];
    const width = Number(last.extent);
    const r = this.sched.reduce!;
    const rowVar = rank >= 2 && rows > 1 ? outLoops[rank - 2].name : null;
    const each = (f: (u: number) => void) => {
      for (let u = 0; u < rows; u++) {
        this.variant = rowVar ? { rowVar, u } : null;
        f(u);
      }
      this.variant = null;
    };
    const rowTemps = (level: number, d: number, which: (t: Temp) => boolean) => {
      each((u) => this.temps(level, d, (t) => which(t) && (u === 0 || this.dependsOnRow(t))));
    };
    this.emit(depth, `${this.accRow}.fill(0, 0, ${rows * width});`);
    const nest = (i: number, d: number): void => {
      if (i === r.vars.length) {
        this.loop(last, d, () => {
          rowTemps(loops.length - 1, d + 1, (t) => t.inBody);
          each((u) => this.emit(d + 1, `${this.accRow}[${u ? `${u * width} + ` : ''}${last.name}] += ${this.num(r.body, undefined, true)};`));
        });
        return;
      }
      this.loop(this.sched.reduceLoops[i], d, () => {
        rowTemps(rank - 1 + i, d + 1, (t) => t.inBody);
        nest(i + 1, d + 1);
      });
    };
    nest(0, depth);
    this.loop(last, depth, () => {
      each((u) => {
        this.emit(depth + 1, `{`);
        this.emit(depth + 2, `const acc = ${this.accRow}[${u ? `${u * width} + ` : ''}${last.name}];`);
        this.temps(loops.length - 1, depth + 2, (t) => !t.inBody);
        this.store(depth + 2);
        this.emit(depth + 1, `}`);
      });
    });
  }

  /** While rendering row u of a block: the row variable reads as `row + u`, row temps get `_u`. */
  private variant: { rowVar: string; u: number } | null = null;

  private readonly rowDependence = new Map<Temp, boolean>();

  private dependsOnRow(t: Temp): boolean {
    const rowVar = this.variant?.rowVar;
    if (!rowVar) return false;
    const known = this.rowDependence.get(t);
    if (known !== undefined) return known;
    let found = false;
    walk(t.expr, (e) => {
      if (e.k === 'var' && e.name === rowVar) found = true;
      const other = this.sched.tempByKey.get(exprKey(e));
      if (other && other !== t && this.dependsOnRow(other)) found = true;
    });
    this.rowDependence.set(t, found);
    return found;
  }

  private tempName(t: Temp): string {
    return this.variant && this.variant.u > 0 && this.dependsOnRow(t) ? `${t.name}_${this.variant.u}` : t.name;
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
    if (t && t !== self) return this.tempName(t);
    const wrap = (s: string) => (bare ? s : `(${s})`);
    switch (e.k) {
      case 'const':
        return e.value < 0 && !bare ? `(${literal(e.value)})` : literal(e.value);
      case 'var':
        return this.variant && this.variant.u > 0 && e.name === this.variant.rowVar ? `(${e.name} + ${this.variant.u})` : e.name;
      case 'load':
        return `${inputName(e.input)}[${this.offset(e.index, this.k.inputs[e.input].shape)}]`;
      case 'unary':
        return wrap(JS_UNARY[e.op](this.num(e.a)));
      case 'binary': {
        const asBool = e.op === 'and' || e.op === 'or';
        const arg = (x: Expr) => (!asBool ? this.num(x) : isBoolean(x) ? this.bool(x) : `(${this.num(x)} !== 0)`);
        return wrap(JS_BINARY[e.op](arg(e.a), arg(e.b)));
      }
      case 'select': {
        const cond = isBoolean(e.cond) ? this.bool(e.cond) : `${this.num(e.cond)} !== 0`;
        return wrap(`${cond} ? ${this.num(e.a)} : ${this.num(e.b)}`);
      }
      case 'reduce':
        if (this.sched.reduce?.op === 'argmax' || this.sched.reduce?.op === 'argmin') return 'best';
        return this.variant && this.variant.u > 0 && this.sched.order === 'outputOuter' ? `acc_${this.variant.u}` : 'acc';
      default:
        return e satisfies never;
    }
  }
}

/** Source of one kernel as a typed function declaration. */
export function renderJsKernel(k: Kernel): string {
  return new JsKernelWriter(k).render();
}
