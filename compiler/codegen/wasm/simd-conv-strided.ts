// Stride-2 convolutions in the broadcast register tiles (simd-kernel.ts): along the output width a
// stride-2 convolution reads every other input column, so each vector of 4 outputs takes the even
// floats of two adjacent input vectors (an i8x16.shuffle), and the tile is otherwise the stride-1
// one (4 filters × 8 columns, the filter value splatted). Without it the contraction fell back to
// a dot tile along the 3-wide filter row (a quarter of its lanes idle, and a horizontal add per
// output).
import type { FunctionBody } from './binary.ts';

/** Bytes of floats 0 and 2 of the first vector, then of the second: every other float. */
const EVEN_FLOATS = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];

/**
 * Loads vector `q` of a broadcast tile's vector operand from the pointer local into local `into`:
 * 4 adjacent floats, or at column stride 2 the even floats of 8. A partial vector of 1 or 2 live
 * lanes reads one vector; so no load reads more than 3 floats (12 bytes) past the last element its
 * live lanes need, within the 16 spare bytes after every buffer (runtime/simd.ts).
 */
export function loadColumns(f: FunctionBody, pointer: number, q: number, stride: 1 | 2, lanes: number, into: number): void {
  if (stride === 1) {
    f.get(pointer).vmem('v128.load', 16 * q).set(into);
    return;
  }
  f.get(pointer).vmem('v128.load', 32 * q);
  if (lanes > 2) f.get(pointer).vmem('v128.load', 32 * q + 16);
  else f.v128Const(new Uint8Array(16));
  f.shuffle(EVEN_FLOATS).set(into);
}
