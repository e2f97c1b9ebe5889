// The WebAssembly SIMD renderer: a pure function from a contraction kernel (contraction.ts) to
// one wasm function over 4-lane float32 vectors, with a register tile of vector accumulators.
//
// Two shapes of tile, chosen by where memory is contiguous (chooseTile, contraction.ts):
// - broadcast: the output's last dimension is contiguous in one operand (x·W along W's columns,
//   a convolution along output columns). Each vector holds 4 adjacent outputs; the other operand
//   is splatted. A tile is 4 rows × 8 columns (8 accumulators, under V8's ~15 vector registers).
// - dot: both operands are contiguous along a reduction (dY·Wᵀ, a filter gradient along image
//   columns). Each vector holds 4 partial sums of one output, added across lanes at the end; a
//   tile is 4 × 2 outputs.
// Reductions are plain loops over advancing pointers, tile neighbours constant address offsets;
// the epilogue (bias, activation, a gradient mask) runs on the accumulators before the one store.
import { mapExpr, type Expr } from '../../../src/ir/expr.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { binaryAlu, unaryAlu } from './alu.ts';
import { I32, V128 } from './binary.ts';
import type { WasmFunction } from './wasm-module.ts';
import { ACC, chooseTile, coefOf, contractionOf, type Affine, type Contraction, type LoopVar, type Tile } from './contraction.ts';
import { BATCH } from '../../../src/ir/shape.ts';
import { blockedBroadcast, blockingPlan, KC, MIN_ROWS, NC, packFunction, prepackLayout, STRIDED_BYTES, stridedRows, type BlockingPlan, type Prepack } from './simd-blocked.ts';
import { inputParam, NotExpressible, ROWS, SimdWriter, type SimdKernel } from './simd-writer.ts';
export type { SimdKernel } from './simd-writer.ts';
import { renderWindowKernel, windowOf } from './simd-window.ts';
import { renderPoolKernel } from './simd-pool.ts';
import { loadColumns } from './simd-conv-strided.ts';
import { renderRowKernel } from './simd-rows.ts';
import { renderPadKernel } from './simd-pad.ts';
import { chunkedBroadcast, chunkPlan, CHUNK } from './simd-chunked.ts';

const BROADCAST_VECTORS = 2;
/** Vector accumulators per row of a broadcast tile: twice as many for single rows (the same 8 registers). */
const tileVectors = (rows: number) => (rows === 1 ? 2 * BROADCAST_VECTORS : BROADCAST_VECTORS);
const DOT_COLS = 2;

/** A SIMD kernel in WebAssembly text format, with its description (`kiln ir --stage wasm`); a product's parts (`_rows`, `_blocked`) after it. */
export function simdListing(k: Kernel, s: SimdKernel): string {
  const params = ['batch', 'lo', 'hi', 'out', ...k.inputs.map((_, i) => `in${i}`)];
  const rows = s.rows ? [`;; ${s.rows.name}: ${k.name} for calls of fewer than ${ROWS} rows, one row at a time.`, s.rows.body.listing(s.rows.name, params)] : [];
  const blocked = s.blocked ? [`;; ${s.blocked.name}: ${k.name} for calls of ${MIN_ROWS} rows or more.`, s.blocked.body.listing(s.blocked.name, params)] : [];
  return [`;; ${k.name}: ${s.how}${s.epilogue ? ` Epilogue in JavaScript: ${s.epilogue.name}.` : ''}`, s.fn.body.listing(k.name, params), ...rows, ...blocked].join('\n');
}

/**
 * The SIMD version of kernel `k` (a contraction, a window max/min: simd-window.ts, a pooling gather:
 * simd-pool.ts, a row reduction or exp map: simd-rows.ts, or a zero pad: simd-pad.ts), or null when it has none. With
 * `prepack` (prepackOf), a blocked product reads W from its packed copy and has a `pack` function;
 * with `singleRows`, a product over the batch has a `<name>_rows` function (partFunction).
 */
export function renderSimdKernel(k: Kernel, prepack: Prepack | null = null, singleRows = true): SimdKernel | null {
  return renderTiledKernel(k, prepack, singleRows) ?? renderPoolKernel(k) ?? renderRowKernel(k) ?? renderPadKernel(k);
}

/** A contraction kernel's sums (the epilogue left out where the vector code lacks it) and tile, or null. */
function tiledForm(k: Kernel, c: Contraction): { sums: Contraction; tile: Tile; vectorEpilogue: boolean } | null {
  const vectorEpilogue = epilogueSupported(c.epilogue);
  if (!vectorEpilogue && !c.product) return null;
  const sums: Contraction = vectorEpilogue ? c : { ...c, epilogue: { k: 'load', input: ACC, index: c.out.map((l) => ({ k: 'var', name: l.name })) } };
  const tile = chooseTile(k, sums);
  return tile && { sums, tile, vectorEpilogue };
}

/**
 * Where kernel `k` can read W from a copy packed once per weight set instead of once per call: a
 * product blocked in either variant whose rows may reach MIN_ROWS, with W an input that
 * `elements` gives the size of (a parameter of the model; null for any other input).
 */
export function prepackOf(k: Kernel, elements: (input: number) => number | null): Prepack | null {
  const c = contractionOf(k);
  const form = c && tiledForm(k, c);
  if (!form) return null;
  const plan = packingPlan(form.sums, form.tile);
  const rows = form.tile.kind === 'broadcast' ? form.tile.rows : null;
  if (!plan || !rows || (rows.extent !== BATCH && rows.extent < MIN_ROWS)) return null;
  const n = elements(plan.packed.input);
  return n === null ? null : prepackLayout(plan, n);
}

/** The blocking plan that W is packed by: the plain variant's, else the relaxed one's (which also blocks products over W with rows far apart). */
function packingPlan(sums: Contraction, tile: Tile): BlockingPlan | null {
  return blockingPlan(sums, tile) ?? blockingPlan(sums, tile, true);
}

function renderTiledKernel(k: Kernel, prepack: Prepack | null, singleRows: boolean): SimdKernel | null {
  const c = contractionOf(k);
  if (!c) {
    const w = windowOf(k);
    return w && renderWindowKernel(k, w, epilogueSupported(w.c.epilogue));
  }
  const form = tiledForm(k, c);
  if (!form) return null;
  const { sums, tile, vectorEpilogue } = form;
  try {
    const plainWriter = new TileWriter(k, sums, tile, false, prepack);
    const plain = plainWriter.render();
    // The relaxed-SIMD variant differs only in its multiply-adds: an elementwise kernel has none.
    const fusedWriter = sums.product ? new TileWriter(k, sums, tile, true, prepack) : undefined;
    const fused = fusedWriter?.render().fn;
    const relaxed = fused && { relaxed: fused.body, relaxedScratch: fused.scratch };
    const packs = fusedWriter?.plan && !plainWriter.plan ? ` The relaxed-SIMD variant packs W (its rows ${STRIDED_BYTES} bytes apart or more) from ${MIN_ROWS} rows a call.` : '';
    const plan = packingPlan(sums, tile);
    const pack = prepack && plan ? { pack: packFunction(k.name, plan, prepack) } : {};
    const blocked = plan ? { blocked: partFunction(k, sums, tile, !!fusedWriter, prepack, 'blocked') } : {};
    const rows = singleRows && sums.product && batchRows(tile) ? { rows: partFunction(k, sums, tile, !!fusedWriter, prepack, 'rows') } : {};
    return { ...plain, ...pack, ...blocked, ...rows, how: plain.how + packs, fn: { ...plain.fn, ...relaxed }, epilogue: vectorEpilogue ? null : epilogueKernel(k, c) };
  } catch (e) {
    if (e instanceof NotExpressible) return null;
    throw e;
  }
}

/**
 * A part of a product in a function of its own, so that V8 compiles only what a call runs (a
 * prediction at batch 1 calls `<name>_rows` alone; warm() warms that): `<name>_blocked`, the
 * cache-blocked path of a large product (where only the relaxed variant blocks, the plain one is
 * the register tiles again), or `<name>_rows`, its rows one at a time (single-row tiles, twice as
 * wide; chunked where W is large). The emitted table picks by the call's row count (simd-table.ts).
 */
function partFunction(k: Kernel, sums: Contraction, tile: Tile, relaxed: boolean, prepack: Prepack | null, part: 'blocked' | 'rows'): WasmFunction {
  const plain = new TileWriter(k, sums, tile, false, prepack, part).render().fn;
  const fused = relaxed ? new TileWriter(k, sums, tile, true, prepack, part).render().fn : undefined;
  return { ...plain, ...(fused && { relaxed: fused.body, relaxedScratch: fused.scratch }) };
}

/** Whether a tile's rows are the batch (the row range a call is given), so that a call may have fewer than ROWS. */
const batchRows = (t: Tile) => t.rows?.name === 'o0' && t.rows.extent === BATCH;

/** The epilogue as an elementwise kernel over the stored sums (the output, read as one more input). */
function epilogueKernel(k: Kernel, c: Contraction): Kernel {
  const sums = k.inputs.length;
  const expr = mapExpr(c.epilogue, (e) => (e.k === 'load' && e.input === ACC ? { ...e, input: sums } : e));
  return { ...k, name: `${k.name}_epilogue`, expr, inputs: [...k.inputs, { dtype: k.dtype, shape: k.shape }], reads: [...k.reads, k.writes], ops: k.ops.slice(1), recomputes: [] };
}

function epilogueSupported(e: Expr): boolean {
  switch (e.k) {
    case 'const':
    case 'load':
      return true;
    case 'unary':
      return !!unaryAlu(e.op) && epilogueSupported(e.a);
    case 'binary':
      return !!binaryAlu(e.op) && epilogueSupported(e.a) && epilogueSupported(e.b);
    case 'select':
      return epilogueSupported(e.cond) && epilogueSupported(e.a) && epilogueSupported(e.b);
    default:
      return false;
  }
}

/** A broadcast kernel's tiles as its description names them: 4 rows × 8 columns, single rows of 16, or both. */
function broadcastTiles(t: Extract<Tile, { kind: 'broadcast' }>): string {
  const single = `1 × ${4 * tileVectors(1)} ${t.col.name}`;
  if (!t.rows) return single;
  const { blocks, singles } = SimdWriter.rowTiles(t.rows);
  const block = `${ROWS} ${t.rows.name} × ${4 * tileVectors(ROWS)} ${t.col.name}`;
  return blocks && singles ? `${block} (single rows: 1 × ${4 * tileVectors(1)})` : blocks ? block : single;
}

/** The register-tile kernel shapes; loops, addresses and the epilogue are SimdWriter's. */
class TileWriter extends SimdWriter {
  /** Cache blocking, where the product is large enough to pay for packing. */
  readonly plan: BlockingPlan | null = blockingPlan(this.c, this.tile, this.relaxed);
  /** Chunked reductions below MIN_ROWS rows a call, where W is large and its rows far apart (simd-chunked.ts). */
  readonly chunks: BlockingPlan | null = chunkPlan(this.c, this.tile);

  constructor(
    k: Kernel,
    c: Contraction,
    tile: Tile,
    relaxed: boolean,
    private readonly prepack: Prepack | null = null,
    /** Render all of the register tiles, or one part of the kernel (partFunction). */
    private readonly part: 'tiles' | 'blocked' | 'rows' = 'tiles',
  ) {
    super(k, c, tile, relaxed, part === 'rows');
  }

  render(): Omit<SimdKernel, 'epilogue'> {
    const t = this.tile;
    const handled = new Set([t.rows?.name, t.kind === 'broadcast' ? t.col.name : t.cols?.name].filter((n): n is string => !!n));
    const outer = this.c.out.filter((l) => !handled.has(l.name));
    this.nest(outer, () => (t.kind === 'broadcast' ? this.broadcastRows(t) : this.dotRows(t)));
    const how =
      t.kind === 'broadcast'
        ? !this.c.product
          ? `SIMD: elementwise, 16 outputs along ${t.col.name} per step.`
          : `SIMD: 4 outputs along ${t.col.name} per vector; tile ${broadcastTiles(t)}.`
        : `SIMD: 4 partial sums along ${t.red.name} per vector; tile ${t.rows ? `${ROWS} ${t.rows.name}` : '1'} × ${t.cols ? `${DOT_COLS} ${t.cols.name}` : '1'}.`;
    const chunks = this.chunks;
    const chunked = chunks ? ` Below ${MIN_ROWS} rows a call, the reduction in chunks of ${CHUNK} ${chunks.red.name}, each sweeping every column (W's rows ${4 * coefOf(chunks.packed.at, chunks.red.name)} bytes apart).` : '';
    const packed = this.prepack ? 'its copy packed once per weight set' : 'the packed operand';
    const blocked = this.plan ? ` Blocked for the cache from ${MIN_ROWS} rows a call: ${KC} ${this.plan.red.name} × ${NC} ${t.kind === 'broadcast' ? t.col.name : ''} of ${packed} at a time.` : '';
    // Only the blocked path packs; a prepacked kernel reads its packed copy beside W: no scratch of its own.
    const scratch = this.prepack || this.part !== 'blocked' ? undefined : this.plan?.scratch;
    const name = this.part === 'tiles' ? this.k.name : `${this.k.name}_${this.part}`;
    return { fn: { name, params: 4 + this.k.inputs.length, body: this.f, scratch }, how: how + chunked + blocked };
  }

  // ---- broadcast tiles ----

  /**
   * Broadcast tiles over every row and column; in `<name>_blocked`, the blocked path (simd-blocked.ts)
   * that calls of MIN_ROWS rows or more take (the emitted table chooses: simd-table.ts).
   */
  private broadcastRows(t: Extract<Tile, { kind: 'broadcast' }>): void {
    const plan = this.plan;
    // Unpacked tiles down W's rows STRIDED_BYTES apart: mul + add in the relaxed variant too (simd-blocked.ts).
    const unpackedFused = this.relaxed && !stridedRows(this.c, t);
    this.fused = unpackedFused;
    if (!plan || this.part !== 'blocked') {
      // W's rows far apart (a large dense layer): the reduction in chunks, every column swept per chunk.
      const from = this.chunks ? chunkedBroadcast(this, t, this.chunks, tileVectors) : 0;
      return this.broadcastFrom(t, from);
    }
    this.fused = this.relaxed;
    blockedBroadcast(this, t, plan, this.prepack);
    this.fused = unpackedFused;
    if (plan.cols8 < plan.cols) this.broadcastFrom(t, plan.cols8);
  }

  /** Register tiles over every row, columns from `from` on. */
  private broadcastFrom(t: Extract<Tile, { kind: 'broadcast' }>, from: number): void {
    this.rowLoops(t.rows, (rows) => {
      const vectors = tileVectors(rows);
      const cols = Number(t.col.extent);
      this.loop(t.col.name, from, cols, 4 * vectors, () => this.broadcastTile(t, rows, vectors, 4));
      // The last columns: smaller blocks, then a partial vector stored lane by lane.
      let done = from + Math.floor((cols - from) / (4 * vectors)) * 4 * vectors;
      for (let v = vectors >> 1; v >= 1; v >>= 1) {
        if (cols - done >= 4 * v) {
          this.f.i32(done).set(this.varLocal(t.col.name));
          this.broadcastTile(t, rows, v, 4);
          done += 4 * v;
        }
      }
      if (cols > done) {
        this.f.i32(done).set(this.varLocal(t.col.name));
        this.broadcastTile(t, rows, 1, cols - done);
      }
    });
  }

  /** One tile: `rows` × `vectors` accumulators; `lanes` < 4 only for a single partial vector. */
  private broadcastTile(t: Extract<Tile, { kind: 'broadcast' }>, rows: number, vectors: number, lanes: number): void {
    const f = this.f;
    const c = this.c;
    const accs = c.product ? this.zeroed(rows * vectors) : [];
    const rowCoef = (at: Affine) => (t.rows ? coefOf(at, t.rows.name) : 0);
    if (c.product) this.broadcastProducts(t, c.product, rows, vectors, accs, lanes);
    this.store(rows, vectors, lanes, (r, q) => ({
      acc: () => f.get(accs[r * vectors + q]),
      offset: (at) => SimdWriter.offset(4 * r * rowCoef(at) + 16 * q * coefOf(at, t.col.name)),
    }), 'vec', t.col.name);
  }

  /** The reduction of a broadcast tile: each step, `vectors` loads of one operand times `rows` splats of the other. */
  private broadcastProducts(t: Extract<Tile, { kind: 'broadcast' }>, product: NonNullable<Contraction['product']>, rows: number, vectors: number, accs: readonly number[], lanes: number): void {
    const f = this.f;
    const [vOp, sOp] = t.vec === 'a' ? [product.a, product.b] : [product.b, product.a];
    const pv = f.local(I32);
    const ps = f.local(I32);
    const vloaded = Array.from({ length: vectors }, () => f.local(V128));
    const splat = f.local(V128);
    const rowCoef = (at: Affine) => (t.rows ? coefOf(at, t.rows.name) : 0);
    const pointers = [
      { param: inputParam(vOp.input), at: vOp.at, local: pv },
      { param: inputParam(sOp.input), at: sOp.at, local: ps },
    ];
    this.reduction(this.c.reduce, pointers, () => {
      for (let q = 0; q < vectors; q++) loadColumns(f, pv, q, t.stride ?? 1, lanes, vloaded[q]);
      for (let r = 0; r < rows; r++) {
        f.get(ps).vmem('v128.load32_splat', SimdWriter.offset(4 * r * rowCoef(sOp.at))).set(splat);
        for (let q = 0; q < vectors; q++) {
          this.madd(accs[r * vectors + q], () => f.get(splat).get(vloaded[q]));
        }
      }
    });
  }

  // ---- dot tiles ----

  private dotRows(t: Extract<Tile, { kind: 'dot' }>): void {
    this.rowLoops(t.rows, (rows) => {
      if (!t.cols) return this.dotTile(t, rows, 1);
      this.loop(t.cols.name, 0, t.cols.extent, DOT_COLS, () => this.dotTile(t, rows, DOT_COLS));
      this.loop(t.cols.name, null, t.cols.extent, 1, () => this.dotTile(t, rows, 1));
    });
  }

  private dotTile(t: Extract<Tile, { kind: 'dot' }>, rows: number, cols: number): void {
    const f = this.f;
    const c = { ...this.c, ...this.c.product! };
    const accs = this.zeroed(rows * cols);
    const [pa, pb] = [f.local(I32), f.local(I32)];
    const aRegs = Array.from({ length: rows }, () => f.local(V128));
    const bReg = f.local(V128);
    const rowCoef = (at: Affine) => (t.rows ? coefOf(at, t.rows.name) : 0);
    const colCoef = (at: Affine) => (t.cols ? coefOf(at, t.cols.name) : 0);
    const extent = Number(t.red.extent);
    const full = Math.floor(extent / 4) * 4;
    const tail = extent - full;
    const others = c.reduce.filter((r) => r.name !== t.red.name);
    const pointers = [
      { param: inputParam(c.a.input), at: c.a.at, local: pa },
      { param: inputParam(c.b.input), at: c.b.at, local: pb },
    ];
    // One step: 4 lanes of the reduction for every output of the tile; a partial step masks its product.
    const step = (mask: number) => {
      for (let r = 0; r < rows; r++) f.get(pa).vmem('v128.load', SimdWriter.offset(4 * r * rowCoef(c.a.at))).set(aRegs[r]);
      for (let q = 0; q < cols; q++) {
        f.get(pb).vmem('v128.load', SimdWriter.offset(4 * q * colCoef(c.b.at))).set(bReg);
        for (let r = 0; r < rows; r++) {
          const acc = accs[r * cols + q];
          // A partial step masks the product (lanes past the end may hold NaN): no fused form.
          if (!mask) this.madd(acc, () => f.get(aRegs[r]).get(bReg));
          else {
            f.get(acc).get(aRegs[r]).get(bReg).simd('f32x4.mul');
            this.laneMask(mask);
            f.simd('f32x4.add').set(acc);
          }
        }
      }
    };
    // The vector loop over `red` (a pointer loop, 4 lanes per step), inside the other reduction loops.
    const loops = [...others, ...(full ? [{ name: t.red.name, extent: full }] : [])];
    this.reductionDot(loops, pointers, step, tail);
    this.store(rows, cols, 1, (r, q) => ({
      acc: () => {
        const acc = accs[r * cols + q];
        f.get(acc).extractLane(0);
        for (let l = 1; l < 4; l++) f.get(acc).extractLane(l).op('f32.add');
      },
      offset: (at) => SimdWriter.offset(4 * (r * rowCoef(at) + q * colCoef(at))),
    }), 'scalar');
  }

  /** Reduction loops of a dot tile: `others` nested, the vector loop innermost (4 lanes a step), then the tail. */
  private reductionDot(loops: readonly LoopVar[], pointers: readonly { param: number; at: Affine; local: number }[], step: (mask: number) => void, tail: number): void {
    const red = (this.tile as Extract<Tile, { kind: 'dot' }>).red.name;
    const vectorLoop = loops.length && loops[loops.length - 1].name === red ? loops[loops.length - 1] : null;
    const outer = vectorLoop ? loops.slice(0, -1) : loops;
    this.nest(outer, () => {
      for (const p of pointers) {
        this.address(p.param, p.at, new Set([red]));
        this.f.set(p.local);
      }
      if (vectorLoop) this.f.stepLoop(pointers.map((p) => ({ local: p.local, stride: 16 })), () => this.f.i32(Number(vectorLoop.extent) / 4), () => step(0));
      if (tail) step(tail);
    });
  }

}
