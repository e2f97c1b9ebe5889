// The JavaScript renderer: a pure function from a lowered kernel to the source of one function,
// loops with literal bounds (only the batch loop reads its bound at run time), register tiles.
import { ARRAY_NAME } from '../../src/ir/dtype.ts';
import type { Expr } from '../../src/ir/expr.ts';
import { BATCH, formatShape, type Dim } from '../../src/ir/shape.ts';
import { describeOps, type Kernel } from '../lower/kernel.ts';
import { extentJs, inputName, JsExpr, type Variant } from './js.ts';
import { identifier, intLiteral } from './literal.ts';
import { commentSafe } from './names.ts';
import { schedule, type Loop, type Schedule, type Temp } from './schedule.ts';

/** Outputs computed together along a blocked loop (each shared load serves this many). */
const BLOCK = 4;
/** Reductions over at most this many elements (pooling windows) are unrolled. */
const UNROLL_WINDOW = 9;

/** Blocked output loops of an output-outer sum: the last (columns) and maybe the one before. */
interface Tile {
  readonly rows: number;
  readonly cols: number;
}

class JsKernelWriter {
  private readonly lines: string[] = [];
  private readonly sched: Schedule;
  private readonly x: JsExpr;
  /** Inside a 2-D register tile, variant names are tagged by axis (`t1_r2`, `t1_c3`). */
  private twoD = false;
  /** In reduction-outer order, the rows of accumulators over the last output dimension. */
  private readonly accRow: string;

  constructor(private readonly k: Kernel) {
    this.sched = schedule(k);
    this.x = new JsExpr(k, this.sched);
    this.accRow = identifier(`${k.name}_acc`);
  }

  /** The outermost output loop: callers may run any range [lo, hi) of it (another thread the rest). */
  private get split(): Loop | undefined {
    return this.sched.outLoops[0];
  }

  render(): string {
    const k = this.k;
    const params = ['batch: number', `out: ${ARRAY_NAME[k.dtype]}`, ...k.inputs.map((t, i) => `${inputName(i)}: ${ARRAY_NAME[t.dtype]}`)];
    if (this.split) params.push('lo = 0', `hi = ${extentJs(this.split.extent)}`);
    const tile = this.sched.order === 'outputOuter' ? this.tile() : null;
    const how =
      this.sched.order === 'reductionOuter'
        ? ` Loop order: the reduction outside the last output loop, which streams ${BLOCK} rows of accumulators.`
        : tile
          ? ` Register tile: ${tile.rows}×${tile.cols} outputs share each load.`
          : '';
    const doc = [
      `/**`,
      ` * ${k.name}: ${commentSafe(describeOps(k))}${k.layers.length ? ` (${commentSafe(k.layers.join(', '))})` : ''}`,
      ` * out ${k.dtype}${formatShape(k.shape)}; ${k.inputs.map((t, i) => `${inputName(i)} ${t.dtype}${formatShape(t.shape)}`).join(', ')}.${how}`,
      ...(this.split ? [` * Computes ${this.split.name} in [lo, hi): a worker thread may take part of the range.`] : []),
      ` */`,
    ];
    const scratch: string[] = [];
    if (this.sched.order === 'reductionOuter') {
      const last = this.sched.outLoops[this.sched.outLoops.length - 1];
      scratch.push(`const ${this.accRow} = /* @__PURE__ */ new Float64Array(${intLiteral(BLOCK * Number(last.extent))});`);
      this.rowLevel(-1, 1);
    } else {
      this.level(-1, 1, tile);
    }
    return [...scratch, ...doc, `function ${identifier(k.name)}(${params.join(', ')}): void {`, ...this.lines, `}`].join('\n');
  }

  private emit(depth: number, line: string) {
    this.lines.push(`${'  '.repeat(depth)}${line}`);
  }

  private temps(level: number, depth: number, which: (t: Temp) => boolean) {
    for (const t of this.sched.temps) {
      if (t.level === level && which(t)) this.emit(depth, `const ${this.x.tempName(t)} = ${this.x.num(t.expr, t, true)};`);
    }
  }

  /** Runs `f` once per variant of a tile (row offsets × column offsets). */
  private variants(rows: { name: string; count: number } | null, cols: { name: string; count: number } | null, f: () => void) {
    const tag = this.twoD;
    for (let u = 0; u < (rows?.count ?? 1); u++) {
      for (let v = 0; v < (cols?.count ?? 1); v++) {
        const offsets: Variant['offsets'][number][] = [];
        if (rows) offsets.push({ name: rows.name, offset: u, tag: tag ? 'r' : '' });
        if (cols) offsets.push({ name: cols.name, offset: v, tag: tag ? 'c' : '' });
        this.x.variant = { offsets };
        f();
      }
    }
    this.x.variant = null;
  }

  /** Temps of a level for every variant that needs its own copy. */
  private variantTemps(level: number, depth: number, which: (t: Temp) => boolean, rows: { name: string; count: number } | null, cols: { name: string; count: number } | null) {
    this.variants(rows, cols, () => this.temps(level, depth, (t) => which(t) && this.x.needsCopy(t)));
  }

  /** Where a loop starts and ends: the split loop runs [lo, hi). */
  private range(loop: Loop): [string, string] {
    return loop === this.split ? ['lo', 'hi'] : ['0', extentJs(loop.extent)];
  }

  private loop(loop: Loop, depth: number, body: () => void) {
    const [from, to] = this.range(loop);
    const v = identifier(loop.name);
    this.emit(depth, `for (let ${v} = ${from}; ${v} < ${to}; ${v}++) {`);
    body();
    this.emit(depth, `}`);
  }

  /** A loop stepping by `block`, then the iterations left over one at a time. */
  private blockedLoop(loop: Loop, block: number, depth: number, body: (count: number) => void) {
    const [from, extent] = this.range(loop);
    const [v, step] = [identifier(loop.name), intLiteral(block)];
    this.emit(depth, `let ${v} = ${from};`);
    this.emit(depth, `for (; ${v} + ${step} <= ${extent}; ${v} += ${step}) {`);
    body(block);
    this.emit(depth, `}`);
    if (loop === this.split || loop.extent === BATCH || Number(loop.extent) % block !== 0) {
      this.emit(depth, `for (; ${v} < ${extent}; ${v}++) {`);
      body(1);
      this.emit(depth, `}`);
    }
  }

  private store(depth: number) {
    // Output dimensions in their own order (the loops may nest in another).
    const offset = this.x.offset(this.k.shape.map((_, d) => ({ k: 'var', name: `o${d}` }) as Expr), this.k.shape);
    this.emit(depth, `out[${offset}] = ${this.x.num(this.k.expr, undefined, true)};`);
  }

  /**
   * Which output loops of an output-outer sum to block. Columns when a value the reduction
   * reads does not depend on them (one load serves BLOCK accumulators); rows as well when the
   * kernel is a matrix product (one operand free of the rows, the other free of the columns).
   */
  private tile(): Tile | null {
    const { reduce, outLoops, temps } = this.sched;
    const rank = outLoops.length;
    const [row, col] = [outLoops[rank - 2], outLoops[rank - 1]];
    if (!reduce || reduce.op !== 'sum' || !col || col.extent === BATCH || Number(col.extent) < BLOCK) return null;
    const loads = temps.filter((t) => t.inBody && t.expr.k === 'load');
    const freeOf = (t: Temp, v: string) => !this.x.dependsOn(t, v);
    if (!loads.some((t) => freeOf(t, col.name))) return null;
    const rowsToo = row && (row.extent === BATCH || Number(row.extent) >= BLOCK) && loads.some((t) => freeOf(t, row.name) && !freeOf(t, col.name)) && loads.some((t) => freeOf(t, col.name) && !freeOf(t, row.name));
    return { rows: rowsToo ? BLOCK : 1, cols: BLOCK };
  }

  /** Output-outer order: loop `level`'s temporaries and what nests inside it. */
  private level(level: number, depth: number, tile: Tile | null) {
    const { outLoops } = this.sched;
    const rank = outLoops.length;
    this.temps(level, depth, (t) => !t.afterReduce);
    if (tile && level === rank - (tile.rows > 1 ? 3 : 2)) {
      this.tiled(depth, tile);
      return;
    }
    if (level < rank - 1) {
      this.loop(outLoops[level + 1], depth, () => this.level(level + 1, depth + 1, tile));
      return;
    }
    if (this.sched.reduce) this.reduction(depth);
    this.temps(level, depth, (t) => t.afterReduce);
    this.store(depth);
  }

  /** The blocked row and column loops of a register tile, with their leftovers. */
  private tiled(depth: number, tile: Tile) {
    const { outLoops } = this.sched;
    const rank = outLoops.length;
    const [row, col] = [outLoops[rank - 2], outLoops[rank - 1]];
    const columns = (d: number, rows: { name: string; count: number } | null) =>
      this.blockedLoop(col, tile.cols, d, (count) => this.tileBody(d + 1, rows, { name: col.name, count }));
    if (tile.rows === 1) {
      columns(depth, null);
      return;
    }
    this.twoD = true;
    this.blockedLoop(row, tile.rows, depth, (count) => {
      const rows = { name: row.name, count };
      this.variantTemps(rank - 2, depth + 1, (t) => !t.afterReduce, rows, null);
      columns(depth + 1, rows);
    });
  }

  /** One tile: an accumulator per variant, the reduction loops, then each variant's epilogue. */
  private tileBody(depth: number, rows: { name: string; count: number } | null, cols: { name: string; count: number }) {
    const rank = this.sched.outLoops.length;
    const r = this.sched.reduce!;
    this.variantTemps(rank - 1, depth, (t) => !t.afterReduce, rows, cols);
    this.variants(rows, cols, () => this.emit(depth, `let ${this.x.accName()} = 0;`));
    const nest = (i: number, d: number): void => {
      if (i === r.vars.length) {
        this.variants(rows, cols, () => this.emit(d, `${this.x.accName()} += ${this.x.num(r.body, undefined, true)};`));
        return;
      }
      this.loop(this.sched.reduceLoops[i], d, () => {
        this.variantTemps(rank + i, d + 1, () => true, rows, cols);
        nest(i + 1, d + 1);
      });
    };
    nest(0, depth);
    // Each variant's epilogue in a block of its own: its temps may share names across variants.
    this.variants(rows, cols, () => {
      this.emit(depth, `{`);
      this.temps(rank - 1, depth + 1, (t) => t.afterReduce);
      this.store(depth + 1);
      this.emit(depth, `}`);
    });
  }

  private reduction(depth: number) {
    const r = this.sched.reduce!;
    const init = r.op === 'sum' ? '0' : r.op === 'max' || r.op === 'argmax' ? '-Infinity' : 'Infinity';
    this.emit(depth, `let acc = ${init};`);
    if (r.op === 'argmax' || r.op === 'argmin') this.emit(depth, `let best = 0;`);
    const rank = this.sched.outLoops.length;
    const nest = (i: number, d: number): void => {
      if (i === r.vars.length) {
        const x = this.x.num(r.body, undefined, true);
        const cmp = r.op === 'argmax' ? '>' : '<';
        if (r.op === 'sum') this.emit(d, `acc += ${x};`);
        else if (r.op === 'argmax' || r.op === 'argmin') this.emit(d, `{ const x = ${x}; if (x ${cmp} acc) { acc = x; best = ${r.vars[0].name}; } }`);
        // NaN wins, as in the reference: once acc is NaN no comparison replaces it.
        else this.emit(d, `{ const x = ${x}; if (x ${r.op === 'max' ? '>' : '<'} acc || x !== x) acc = x; }`);
        return;
      }
      const loop = this.sched.reduceLoops[i];
      if (!unrolled) {
        this.loop(loop, d, () => {
          this.temps(rank + i, d + 1, () => true);
          nest(i + 1, d + 1);
        });
        return;
      }
      for (let value = 0; value < Number(loop.extent); value++) {
        this.emit(d, `{`);
        this.emit(d + 1, `const ${identifier(loop.name)} = ${intLiteral(value)};`);
        this.temps(rank + i, d + 1, () => true);
        nest(i + 1, d + 1);
        this.emit(d, `}`);
      }
    };
    // A small window (a 2×2 pool) is written out, one block per position: its loops cost more
    // than its body, and a loop-free body lets V8 keep the accumulator in a register (2.5× faster).
    const extents = this.sched.reduceLoops.map((l) => l.extent);
    const unrolled = extents.every((e) => e !== BATCH) && extents.reduce<number>((n, e) => n * Number(e), 1) <= UNROLL_WINDOW;
    nest(0, depth);
  }

  /** Reduction-outer order (sums only): rows of accumulators, BLOCK rows of output at a time. */
  private rowLevel(level: number, depth: number) {
    const { outLoops } = this.sched;
    const rank = outLoops.length;
    this.temps(level, depth, () => true);
    if (level < rank - 3) {
      this.loop(outLoops[level + 1], depth, () => this.rowLevel(level + 1, depth + 1));
      return;
    }
    if (rank < 2) {
      this.rowBlock(depth, null);
      return;
    }
    const row = outLoops[rank - 2];
    this.blockedLoop(row, BLOCK, depth, (count) => {
      const rows = count > 1 ? { name: row.name, count } : null;
      this.variantTemps(rank - 2, depth + 1, () => true, rows, null);
      this.rowBlock(depth + 1, rows);
    });
  }

  /** Zeroes the accumulator rows, accumulates the reduction into them, then the epilogue. */
  private rowBlock(depth: number, rows: { name: string; count: number } | null) {
    const { outLoops, loops } = this.sched;
    const last = outLoops[outLoops.length - 1];
    const width = Number(last.extent);
    const r = this.sched.reduce!;
    const at = () => {
      const u = this.x.variant?.offsets[0]?.offset ?? 0;
      return `${this.accRow}[${u ? `${intLiteral(u * width)} + ` : ''}${identifier(last.name)}]`;
    };
    this.emit(depth, `${this.accRow}.fill(0, 0, ${intLiteral((rows?.count ?? 1) * width)});`);
    const nest = (i: number, d: number): void => {
      if (i === r.vars.length) {
        this.loop(last, d, () => {
          this.variantTemps(loops.length - 1, d + 1, (t) => t.inBody, rows, null);
          this.variants(rows, null, () => this.emit(d + 1, `${at()} += ${this.x.num(r.body, undefined, true)};`));
        });
        return;
      }
      this.loop(this.sched.reduceLoops[i], d, () => {
        this.variantTemps(outLoops.length - 1 + i, d + 1, (t) => t.inBody, rows, null);
        nest(i + 1, d + 1);
      });
    };
    nest(0, depth);
    const byRow = (t: Temp) => rows !== null && this.x.dependsOn(t, rows.name);
    this.loop(last, depth, () => {
      // What no row depends on (a bias) once; then each row's own values in a block of its own.
      this.temps(loops.length - 1, depth + 1, (t) => !t.inBody && !t.afterReduce && !byRow(t));
      this.variants(rows, null, () => {
        this.emit(depth + 1, `{`);
        this.emit(depth + 2, `const acc = ${at()};`);
        this.temps(loops.length - 1, depth + 2, (t) => !t.inBody && (t.afterReduce || (byRow(t) && this.x.needsCopy(t))));
        this.store(depth + 2);
        this.emit(depth + 1, `}`);
      });
    });
  }
}

/** Source of one kernel as a typed function declaration (with any scratch it needs before it). */
export function renderJsKernel(k: Kernel): string {
  return new JsKernelWriter(k).render();
}

/**
 * How a kernel may be split across threads: the extent of its outermost output loop (each
 * thread takes a range of it; ranges start at multiples of BLOCK so register tiles stay whole),
 * and its work per call as multiply-adds (output elements × reduction length), for the threshold.
 */
export function kernelSplit(k: Kernel): { extent: Dim; work: string } | null {
  const { outLoops } = schedule(k);
  if (!outLoops.length) return null;
  const factors = workFactors(k);
  const batches = factors.filter((d) => d === BATCH).length;
  return { extent: outLoops[0].extent, work: [intLiteral(literalProduct(factors)), ...Array<string>(batches).fill('batch')].join(' * ') };
}

/** The sizes whose product is a kernel's multiply-adds per call: its output's, then its reduction's. */
function workFactors(k: Kernel): Dim[] {
  return [...k.shape, ...schedule(k).reduceLoops.map((l) => l.extent)];
}

/** The product of the literal sizes of `dims` (the batch counted as 1). */
const literalProduct = (dims: readonly Dim[]) => dims.reduce<number>((p, d) => (d === BATCH ? p : p * Number(d)), 1);

/** A kernel's multiply-adds per call at batch 1 (output elements × reduction length). */
export function workAtBatch1(k: Kernel): number {
  return literalProduct(workFactors(k));
}

export const SPLIT_ALIGN = BLOCK;
