// Products over a large W whose rows lie far apart (x·W with W's rows STRIDED_BYTES or more apart: a
// large dense layer) in calls of too few rows for cache blocking to pay (a prediction at batch 1).
// A register tile reduces one strip of columns over all of K, walking W down its rows: every step
// reads a new cache line of a new page (rows 4 KiB apart), and every strip walks all K pages
// again, more than the TLB holds. Here the reduction runs in chunks of CHUNK steps with every
// column strip swept inside a chunk: the chunk's CHUNK rows of W are read once, line after line,
// through CHUNK pages the TLB keeps. Partial sums wait in the output between chunks; a float32
// store and load is exact, so each output is the same sum in the same order as the register
// tile's, bit for bit.
import { I32, V128 } from './binary.ts';
import { coefOf, type Contraction, type Tile } from './contraction.ts';
import { blockingPlan, minLocal, resumeTile, stridedRows, suspendTile, tileOffset, wBytes, type BlockingPlan } from './simd-blocked.ts';
import { inputParam, type SimdWriter } from './simd-writer.ts';

/**
 * Reduction steps per chunk: 16 rows of W, 16 pages and as many streams for the prefetcher. On
 * cifar-cnn's 8192 × 1024 layer at batch 1, chunks of 8 and 16 measured alike, 32 and more slower
 * (64: 4.9 ms against 3), 2 and 4 slower again (the partial sums' loads and stores).
 */
export const CHUNK = 16;

type BroadcastTile = Extract<Tile, { kind: 'broadcast' }>;

/** W's size (bytes) from which its few-row calls are chunked (a W in L2 measured slower chunked, below). */
const MIN_BYTES = 512 * 1024;

/**
 * The plan for chunking `c`'s reduction, or null: a product the plain kernels block for the cache
 * (so its calls of 16 rows or more take the blocked path) over a W of MIN_BYTES or more whose rows
 * are STRIDED_BYTES or more apart, with more than one chunk of steps. Products over a smaller W
 * (the LSTM's [192, 512], 384 KiB, in L2) measured about 6 % slower chunked at batch 32: not chunked.
 */
export function chunkPlan(c: Contraction, t: Tile): BlockingPlan | null {
  const p = blockingPlan(c, t);
  return p && wBytes(p.red.extent, p.cols) >= MIN_BYTES && stridedRows(c, t) && p.red.extent > CHUNK ? p : null;
}

/**
 * Chunked tiles over columns [0, cols rounded down to 4) of rows [lo, hi): for each chunk, each
 * row tile (`vectors(rows)` vectors wide), each column strip. Returns the columns covered; the
 * caller's register tiles take the rest (fewer than 4).
 */
export function chunkedBroadcast(w: SimdWriter, t: BroadcastTile, p: BlockingPlan, vectors: (rows: number) => number): number {
  const f = w.f;
  const K = p.red.extent;
  const cols4 = p.cols - (p.cols % 4);
  const kc = f.local(I32);
  f.i32(0).set(kc);
  w.whileLess(kc, () => f.i32(K), CHUNK, () => {
    const kb = minLocal(w, () => f.i32(CHUNK), () => f.i32(K).get(kc).op('i32.sub'));
    w.rowLoops(t.rows, (rows) => {
      const v = vectors(rows);
      w.loop(t.col.name, 0, cols4, 4 * v, () => chunkTile(w, p, rows, v, kc, kb));
      // The last columns: narrower strips.
      let done = Math.floor(cols4 / (4 * v)) * 4 * v;
      for (let n = v >> 1; n >= 1; n >>= 1) {
        if (cols4 - done < 4 * n) continue;
        f.i32(done).set(w.varLocal(t.col.name));
        chunkTile(w, p, rows, n, kc, kb);
        done += 4 * n;
      }
    });
  });
  return cols4;
}

/** One `rows` × `vectors` tile at column o1 over steps [kc, kc + kb): accumulate, then store (the epilogue in the last chunk). */
function chunkTile(w: SimdWriter, p: BlockingPlan, rows: number, vectors: number, kc: number, kb: number): void {
  const f = w.f;
  const accs = resumeTile(w, kc, rows, vectors);
  // Pointers at reduction step kc: W's row, the splatted operand's element.
  f.get(kc).set(w.varLocal(p.red.name));
  const pv = w.addressLocal(inputParam(p.packed.input), p.packed.at);
  const ps = w.addressLocal(inputParam(p.splat.input), p.splat.at);
  const loaded = Array.from({ length: vectors }, () => f.local(V128));
  const splat = f.local(V128);
  const strided = [{ local: pv, stride: 4 * coefOf(p.packed.at, p.red.name) }, { local: ps, stride: 4 * coefOf(p.splat.at, p.red.name) }];
  f.stepLoop(strided, () => f.get(kb), () => {
    for (let q = 0; q < vectors; q++) f.get(pv).vmem('v128.load', 16 * q).set(loaded[q]);
    for (let r = 0; r < rows; r++) {
      f.get(ps).vmem('v128.load32_splat', tileOffset(p.splat.at, r, 0)).set(splat);
      for (let q = 0; q < vectors; q++) w.madd(accs[r * vectors + q], () => f.get(splat).get(loaded[q]));
    }
  });
  suspendTile(w, accs, kc, kb, p.red.extent, rows, vectors);
}
