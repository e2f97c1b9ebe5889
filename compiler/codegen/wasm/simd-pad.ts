// Zero padding of an image's last two axes (a convolution's padded input: compiler/passes/
// pad-conv.ts) as WebAssembly bulk memory: each input row is one `memory.copy`, and the zeros
// between two rows (the right pad of one, the left of the next; at a plane's end its bottom rows)
// one `memory.fill`. As a JavaScript kernel every element tested its bounds, and a first
// prediction ran it in V8's interpreter (cifar-cnn's second pad: about 1.5 ms at batch 1).
import { BATCH } from '../../../src/ir/shape.ts';
import type { PadAttrs } from '../../../src/ir/ops/onnx-extra.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { I32 } from './binary.ts';
import { HI, inputParam, kernelBody, LO, OUT, type SimdKernel } from './simd-writer.ts';

/** A pad the bulk-memory kernel does: planes of `h` × `w` floats, grown by t, l, b, r. */
interface PadPlan {
  /** Planes per row of the batch (the product of the axes between the batch and the last two). */
  readonly planes: number;
  readonly h: number;
  readonly w: number;
  readonly t: number;
  readonly l: number;
  readonly b: number;
  readonly r: number;
}

/** The plan of a kernel that is one constant-zero float32 pad of at most its last two axes, or null. */
export function padPlanOf(k: Kernel): PadPlan | null {
  const node = k.writes;
  if (k.ops.length !== 1 || node.op !== 'pad' || k.recomputes.length || k.reads.length !== 1 || k.reads[0] !== node.inputs[0]) return null;
  const { pads, mode, value } = node.attrs as unknown as PadAttrs;
  const shape = k.inputs[0].shape;
  const rank = shape.length;
  // memory.fill writes bytes: +0 is four zero bytes (-0 and other values are not).
  if (mode !== 'constant' || !Object.is(value, 0) || k.dtype !== 'float32' || k.inputs[0].dtype !== 'float32' || rank < 3) return null;
  const begin = pads.slice(0, rank);
  const end = pads.slice(rank);
  if (begin.some((p, i) => i < rank - 2 && (p !== 0 || end[i] !== 0)) || pads.some((p) => p < 0)) return null;
  const inner = shape.slice(1);
  if (inner.some((d) => d === BATCH)) return null;
  const [h, w] = inner.slice(-2) as number[];
  const planes = (inner.slice(0, -2) as number[]).reduce((a, d) => a * d, 1);
  return { planes, h, w, t: begin[rank - 2], l: begin[rank - 1], b: end[rank - 2], r: end[rank - 1] };
}

/** The bulk-memory version of a pad kernel (padPlanOf), or null. */
export function renderPadKernel(k: Kernel): SimdKernel | null {
  const p = padPlanOf(k);
  if (!p) return null;
  const f = kernelBody(k.inputs.length);
  const { planes, h, w, t, l, b, r } = p;
  const wide = w + l + r;
  const [src, dst, end, row] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const at = (param: number, floatsPerRow: number, bound: number) => f.get(param).get(bound).i32(4 * floatsPerRow).op('i32.mul').op('i32.add');
  const zeros = (bytes: () => void) => {
    f.get(dst).i32(0);
    bytes();
    f.memoryFill();
    f.get(dst);
    bytes();
    f.op('i32.add').set(dst);
  };
  // Rows [lo, hi) of the batch: planes·h·w floats each in, planes·(h+t+b)·wide out.
  at(inputParam(0), planes * h * w, LO).set(src);
  at(OUT, planes * (h + t + b) * wide, LO).set(dst);
  at(OUT, planes * (h + t + b) * wide, HI).set(end);
  f.whileLess(dst, () => f.get(end), () => {
    // A plane: its top rows and the first row's left pad, then each row and the zeros after it.
    zeros(() => f.i32(4 * (t * wide + l)));
    f.i32(0).set(row);
    f.whileLess(row, () => f.i32(h), () => {
      f.get(dst).get(src).i32(4 * w).memoryCopy();
      f.get(src).i32(4 * w).op('i32.add').set(src);
      f.get(dst).i32(4 * w).op('i32.add').set(dst);
      // After the last row: its right pad and the plane's bottom rows; else the right and next left pads.
      zeros(() => f.i32(4 * (r + b * wide)).i32(4 * (r + l)).get(row).i32(h - 1).op('i32.eq').select());
      f.get(row).i32(1).op('i32.add').set(row);
    });
  });
  const how = `Bulk memory: each row of ${w} copied (memory.copy), the zeros between rows filled (memory.fill); pads ${t}, ${l}, ${b}, ${r} (top, left, bottom, right).`;
  return { fn: { name: k.name, params: 4 + k.inputs.length, body: f }, how, epilogue: null };
}
