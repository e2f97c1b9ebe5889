// Cache blocking for large broadcast contractions (x·W with W too big for the L2 cache): W is
// copied, one block of KC reduction steps × NC columns at a time, into a scratch region as
// 8-column strips laid out contiguously, and the 4 × 8 register tiles read the strips sequentially.
// Without it every step of a tile's reduction reads a new row of W (a new cache line, and at
// n ≥ 1024 a new 4 KiB page at a power-of-two stride that maps to one L1 set): at n = 2048 the
// plain tile ran 7.5 GFLOP/s against 50 at n = 512. The splatted operand's 4 rows are read in
// place (4 sequential streams the prefetcher follows); packing them measured no gain.
import type { Expr } from '../../../src/ir/expr.ts';
import { BATCH } from '../../../src/ir/shape.ts';
import { FunctionBody, I32, V128 } from './binary.ts';
import type { WasmFunction } from './wasm-module.ts';
import { ACC, coefOf, type Affine, type AffineLoad, type Contraction, type LoopVar, type Tile } from './contraction.ts';
import { inputParam, OUT, SimdWriter } from './simd-writer.ts';

/** Reduction steps per block and columns per panel: a 256 KiB packed block, within L2. */
export const KC = 256;
export const NC = 256;
/**
 * Bytes from one packed strip to the next: KC·32 (8 KiB) plus one cache line. Strips 8 KiB apart
 * all map to one L1 set (addresses 4 KiB apart share a set), so packing one row of W, which writes
 * 32 bytes into each of 32 strips, evicted each line before the next row filled its other half:
 * the MLP's 784×256 layer at batch 64 ran 25 % slower blocked than unblocked. With the extra line
 * the strips fall in 32 different sets (that layer 1.3× faster; square products unchanged).
 */
const STRIP = KC * 32 + 64;
/** Packing pays only when W is reused by enough rows: below this many rows a call runs the plain tiles. */
export const MIN_ROWS = 16;
/**
 * W's size (bytes) from which blocking pays. First measured with n = 512 (1 MiB) gaining and n = 256
 * not; after the tiles' loops lost their step counter (2026-12-03) n = 256 (256 KiB) ran 13 %
 * faster blocked and the LSTM's recurrent product ([32, 128] · [128, 512]) 13 %, in one process;
 * the Transformer's feed-forward ([·, 128] · [128, 512]) alike either way.
 */
const MIN_BYTES = 256 * 1024;
/**
 * Bytes from one row of W to the next from which the relaxed-SIMD variant blocks whatever W's
 * size. A tile walking W down its rows at a stride of 2 KiB reads lines that fall in 2 of the
 * L1's 64 sets, so every step misses L1; fused multiply-adds (4-cycle chains, with 8
 * accumulators and 2 FMA pipes no slack) then wait on L2, where mul + add (3-cycle adds) hide it:
 * the LSTM's recurrent product ([32, 192] · [192, 512]) ran 5 % slower relaxed than plain in 5 of
 * 6 processes, and equal to plain when blocked (packed strips are read in sequence).
 */
export const STRIDED_BYTES = 2048;

/** What a blocked kernel needs: the reduction, the columns, which operand is packed. */
export interface BlockingPlan {
  readonly red: LoopVar & { extent: number };
  readonly cols: number;
  /** Columns in whole 8-column strips; the rest run the plain tiles. */
  readonly cols8: number;
  readonly packed: AffineLoad;
  readonly splat: AffineLoad;
  /** Scratch bytes (one packed block). */
  readonly scratch: number;
}

/**
 * The plan for blocking `c`, or null: a broadcast tile over rows o0 (the thread split) and columns
 * o1 of a 2-D output, one reduction loop of static extent, W of MIN_BYTES or more (in the
 * relaxed-SIMD variant, `relaxed`, also W whose rows are STRIDED_BYTES apart or more).
 */
export function blockingPlan(c: Contraction, t: Tile, relaxed = false): BlockingPlan | null {
  if (t.kind !== 'broadcast' || !c.product || t.rows?.name !== 'o0' || c.out.length !== 2 || t.col.name !== 'o1') return null;
  const looped = c.reduce.filter((r) => r.extent !== 1);
  if (looped.length !== 1 || looped[0].extent === BATCH) return null;
  const red = looped[0] as LoopVar & { extent: number };
  const cols = Number(t.col.extent);
  const [packed, splat] = t.vec === 'a' ? [c.product.a, c.product.b] : [c.product.b, c.product.a];
  const plain = (at: Affine, allowed: readonly string[]) => Object.entries(at.coef).every(([v, x]) => x === 0 || allowed.includes(v));
  if (!plain(packed.at, [red.name, 'o1']) || !plain(splat.at, [red.name, 'o0']) || coefOf(packed.at, 'o1') !== 1) return null;
  const big = wBytes(red.extent, cols) >= MIN_BYTES;
  if ((!big && !(relaxed && stridedRows(c, t))) || cols < 16) return null;
  return { red, cols, cols8: cols - (cols % 8), packed, splat, scratch: (NC / 8) * STRIP };
}

/** Bytes of a float32 W of `k` rows and `cols` columns: what the blocking and chunking thresholds weigh. */
export const wBytes = (k: number, cols: number) => 4 * k * cols;

/**
 * Whether a broadcast tile's vector operand (W) advances STRIDED_BYTES or more per step of its
 * innermost reduction loop: where fused multiply-adds lose to mul + add unless W is packed.
 */
export function stridedRows(c: Contraction, t: Tile): boolean {
  if (t.kind !== 'broadcast' || !c.product) return false;
  const looped = c.reduce.filter((r) => r.extent !== 1);
  const inner = looped[looped.length - 1];
  const vec = t.vec === 'a' ? c.product.a : c.product.b;
  return !!inner && 4 * Math.abs(coefOf(vec.at, inner.name)) >= STRIDED_BYTES;
}

/**
 * A packed copy of W made once per weight set (a model's parameter: weights change only between
 * calls) instead of one block per call. It lies in the same allocation as W, `at` bytes after W's
 * address, so a kernel finds it from the address it is passed (on any thread). It is the per-call
 * blocks laid end to end in the order the kernel reads them: panel by panel (NC columns, `nw` in
 * the last), block by block (KC steps), each block as the scratch holds one (strips of 8 columns
 * STRIP bytes apart, step k at 32·k). A tile then reads each block as one contiguous stream; a
 * layout with each strip whole over K (strips 173 KB apart for the CNN's dense layer) read 4 %
 * slower than packing per call.
 */
export interface Prepack {
  /** W's input slot in the kernel, and where the kernel reads W's element (o1, step k): at c + coef[k]·k + o1. */
  readonly input: number;
  readonly w: Affine;
  /** Bytes from W's address to the packed copy: W's bytes rounded up to a cache line. */
  readonly at: number;
  /** Blocks of KC steps per panel: ⌈K / KC⌉. */
  readonly blocks: number;
  /** Float32 elements to allocate after W's own: padding to `at`, then the blocks. */
  readonly room: number;
}

/** The layout of a packed copy of `p`'s W, a parameter of `elements` float32 values. */
export function prepackLayout(p: BlockingPlan, elements: number): Prepack {
  const at = Math.ceil((elements * 4) / 64) * 64;
  const blocks = Math.ceil(p.red.extent / KC);
  return { input: p.packed.input, w: p.packed.at, at, blocks, room: (at + (p.cols8 / 8) * STRIP * blocks) / 4 - elements };
}

/**
 * Byte offset (from W's address) of strip `col` of the block at step `kc`, of the panel from column
 * `jc` that is `nw` wide: at + STRIP/8 · (jc·blocks + (kc/KC)·nw + col − jc). The panels before
 * `jc` are NC wide.
 */
function prepackedStrip(f: FunctionBody, pp: Prepack, jc: () => void, kcBlock: () => void, nw: () => void, col: () => void): void {
  jc();
  f.i32(pp.blocks - 1).op('i32.mul');
  kcBlock();
  nw();
  f.op('i32.mul').op('i32.add');
  col();
  f.op('i32.add').i32(STRIP / 8).op('i32.mul').i32(pp.at).op('i32.add');
}

/**
 * `<kernel>_pack(w)`: writes the packed copy of W (at byte address `w`) beside it, row by row of W
 * (each row read once, in order), each row's 8-column pieces into their strips.
 */
export function packFunction(name: string, p: BlockingPlan, pp: Prepack): WasmFunction {
  const f = new FunctionBody(1);
  const [k, src, dst, end, v] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(V128)];
  const rowStep = 4 * coefOf(pp.w, p.red.name);
  f.i32(0).set(k);
  f.whileLess(k, () => f.i32(p.red.extent), () => {
    // src: W's row k (its first column).
    f.get(0).i32(4 * pp.w.c).op('i32.add').get(k).i32(rowStep).op('i32.mul').op('i32.add').set(src);
    // Each panel (few: unrolled): its strip 0 in the block holding step k, at k's place in it.
    for (let jc = 0; jc < p.cols8; jc += NC) {
      const nw = Math.min(NC, p.cols8 - jc);
      f.get(0);
      prepackedStrip(f, pp, () => f.i32(jc), () => f.get(k).i32(KC).op('i32.div_u'), () => f.i32(nw), () => f.i32(jc));
      f.op('i32.add').get(k).i32(KC).op('i32.rem_u').i32(32).op('i32.mul').op('i32.add').set(dst);
      f.get(src).i32(4 * nw).op('i32.add').set(end);
      f.whileLess(src, () => f.get(end), () => {
        f.get(src).vmem('v128.load', 0).set(v);
        f.get(dst).get(v).vmem('v128.store', 0);
        f.get(src).vmem('v128.load', 16).set(v);
        f.get(dst).get(v).vmem('v128.store', 16);
        f.get(src).i32(32).op('i32.add').set(src);
        f.get(dst).i32(STRIP).op('i32.add').set(dst);
      });
    }
    f.get(k).i32(1).op('i32.add').set(k);
  });
  return { name: `${name}_pack`, params: 1, body: f };
}

/** `min(a, b)` of two pushed i32 values, as a new local. */
export function minLocal(w: SimdWriter, a: () => void, b: () => void): number {
  const f = w.f;
  const m = f.local(I32);
  a();
  b();
  a();
  b();
  f.op('i32.lt_s').select().set(m);
  return m;
}

/**
 * The blocked loops over columns [0, cols8) for rows [lo, hi): for each panel of NC columns and
 * each block of KC reduction steps, pack then run 4 × 8 tiles (and 1 × 8 for the last rows) over
 * it. A tile starts from the sums stored by the previous block and applies the epilogue only in
 * the last block.
 */
export function blockedBroadcast(w: SimdWriter, t: Extract<Tile, { kind: 'broadcast' }>, p: BlockingPlan, prepack: Prepack | null = null): void {
  const f = w.f;
  const K = p.red.extent;
  const [jc, kc] = [f.local(I32), f.local(I32)];
  f.i32(0).set(jc);
  w.whileLess(jc, () => f.i32(p.cols8), NC, () => {
    const nw = minLocal(w, () => f.i32(NC), () => f.i32(p.cols8).get(jc).op('i32.sub'));
    f.i32(0).set(kc);
    w.whileLess(kc, () => f.i32(K), KC, () => {
      const kb = minLocal(w, () => f.i32(KC), () => f.i32(K).get(kc).op('i32.sub'));
      if (!prepack) pack(w, p, jc, kc, kb, nw);
      w.rowLoops(t.rows, (rows) => {
        const col = w.varLocal(t.col.name);
        f.get(jc).set(col);
        w.whileLess(col, () => f.get(jc).get(nw).op('i32.add'), 8, () => blockTile(w, t, p, rows, { jc, kc, kb, nw }, prepack));
      });
    });
  });
}

/** Copies W[kc .. kc+kb, jc .. jc+nw] into scratch: strip s (8 columns) at s·STRIP bytes, step k at 32·k. */
function pack(w: SimdWriter, p: BlockingPlan, jc: number, kc: number, kb: number, nw: number): void {
  const f = w.f;
  const [k, src, dst, end, v] = [w.varLocal(p.red.name), f.local(I32), f.local(I32), f.local(I32), f.local(V128)];
  f.get(kc).set(k);
  w.whileLess(k, () => f.get(kc).get(kb).op('i32.add'), 1, () => {
    w.varLocal('o1');
    f.get(jc).set(w.varLocal('o1'));
    w.address(inputParam(p.packed.input), p.packed.at);
    f.set(src);
    f.globalGet(0).get(k).get(kc).op('i32.sub').i32(32).op('i32.mul').op('i32.add').set(dst);
    f.get(src).get(nw).i32(4).op('i32.mul').op('i32.add').set(end);
    w.whileLess(src, () => f.get(end), 32, () => {
      f.get(src).vmem('v128.load', 0).set(v);
      f.get(dst).get(v).vmem('v128.store', 0);
      f.get(src).vmem('v128.load', 16).set(v);
      f.get(dst).get(v).vmem('v128.store', 16);
      f.get(dst).i32(STRIP).op('i32.add').set(dst);
    });
  });
}

/** One `rows` × 8 tile at column o1 over the packed block (or the prepacked copy): accumulate kb steps, then store. */
function blockTile(w: SimdWriter, t: Extract<Tile, { kind: 'broadcast' }>, p: BlockingPlan, rows: number, block: { jc: number; kc: number; kb: number; nw: number }, prepack: Prepack | null): void {
  const { jc, kc, kb, nw } = block;
  const f = w.f;
  const col = w.varLocal('o1');
  const rowCoef = (at: Affine) => coefOf(at, 'o0');
  const accs = resumeTile(w, kc, rows, 2);
  // Pointers: the strip of this column, the splatted operand's row at reduction step kc.
  const [pv, ps] = [f.local(I32), f.local(I32)];
  if (prepack) {
    // This tile's strip of the block in the copy beside W.
    f.get(inputParam(prepack.input));
    prepackedStrip(f, prepack, () => f.get(jc), () => f.get(kc).i32(KC).op('i32.div_u'), () => f.get(nw), () => f.get(col));
    f.op('i32.add').set(pv);
  } else f.globalGet(0).get(col).get(jc).op('i32.sub').i32(STRIP / 8).op('i32.mul').op('i32.add').set(pv);
  f.get(kc).set(w.varLocal(p.red.name));
  w.address(inputParam(p.splat.input), p.splat.at);
  f.set(ps);
  const [v0, v1, splat] = [f.local(V128), f.local(V128), f.local(V128)];
  const strided = [{ local: pv, stride: 32 }, { local: ps, stride: 4 * coefOf(p.splat.at, p.red.name) }];
  f.stepLoop(strided, () => f.get(kb), () => {
    f.get(pv).vmem('v128.load', 0).set(v0);
    f.get(pv).vmem('v128.load', 16).set(v1);
    for (let r = 0; r < rows; r++) {
      f.get(ps).vmem('v128.load32_splat', SimdWriter.offset(4 * r * rowCoef(p.splat.at))).set(splat);
      w.madd(accs[r * 2], () => f.get(splat).get(v0));
      w.madd(accs[r * 2 + 1], () => f.get(splat).get(v1));
    }
  });
  suspendTile(w, accs, kc, kb, p.red.extent, rows, 2);
}

/** Byte offset of vector q of row r in a tile over 2-D `at` (rows along o0, vectors along o1). */
export const tileOffset = (at: Affine, r: number, q: number) => SimdWriter.offset(4 * r * coefOf(at, 'o0') + 16 * q * coefOf(at, 'o1'));

/**
 * The accumulators of a `rows` × `vectors` tile whose reduction runs in passes (blocks, chunks):
 * zero in the pass from step 0, else the partial sums the previous pass stored in the output.
 */
export function resumeTile(w: SimdWriter, kc: number, rows: number, vectors: number): number[] {
  const f = w.f;
  const c = w.c;
  const out = w.addressLocal(OUT, c.outAt);
  const accs = Array.from({ length: rows * vectors }, () => f.local(V128));
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < vectors; q++) {
      f.f32(0).simd('f32x4.splat').get(out).vmem('v128.load', tileOffset(c.outAt, r, q)).get(kc).op('i32.eqz').select().set(accs[r * vectors + q]);
    }
  }
  return accs;
}

/** Stores resumeTile's accumulators after steps [kc, kc + kb) of `steps`: through the epilogue after the last, raw sums before. */
export function suspendTile(w: SimdWriter, accs: readonly number[], kc: number, kb: number, steps: number, rows: number, vectors: number): void {
  const f = w.f;
  const site = (r: number, q: number) => ({ acc: () => f.get(accs[r * vectors + q]), offset: (at: Affine) => tileOffset(at, r, q) });
  const raw: Expr = { k: 'load', input: ACC, index: w.c.out.map((l) => ({ k: 'var', name: l.name })) };
  f.get(kc).get(kb).op('i32.add').i32(steps).op('i32.ge_s').if();
  w.store(rows, vectors, 4, site, 'vec', 'o1');
  f.else();
  w.store(rows, vectors, 4, site, 'vec', 'o1', raw);
  f.end();
}
