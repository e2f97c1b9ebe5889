// ONNX convolution and pooling: auto_pad, ceil mode, 1-D and 3-D windows mapped onto Kiln's ops.
import type { Node } from '../ir/node.ts';
import { int, ints, reshape, shapeOf, str, type OnnxContext, type OnnxOp } from './context.ts';

/** Spatial pads [begin..., end...] from auto_pad / pads for input extents, kernel, strides, dilations. */
export function windowPads(c: OnnxContext, spatial: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const n = spatial.length;
  const autoPad = str(c, 'auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') {
    const pads = ints(c, 'pads') ?? new Array<number>(2 * n).fill(0);
    if (pads.length !== 2 * n) c.unsupported(`pads must have ${2 * n} entries, got ${pads.length}`);
    return pads;
  }
  if (autoPad === 'VALID') return new Array<number>(2 * n).fill(0);
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') c.unsupported(`auto_pad ${JSON.stringify(autoPad)} is not supported`);
  const begin: number[] = [];
  const end: number[] = [];
  spatial.forEach((size, i) => {
    const out = Math.ceil(size / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
    const b = autoPad === 'SAME_LOWER' ? Math.ceil(total / 2) : Math.floor(total / 2);
    begin.push(b);
    end.push(total - b);
  });
  return [...begin, ...end];
}

/**
 * ceil_mode: grows the end padding (in place) so that the floor rule gives the ceil rule's extent,
 * dropping a last window that would start inside the end padding (as ONNX does).
 */
export function ceilPads(spatial: number[], kernel: number[], strides: number[], dilations: number[], pads: number[]): void {
  const n = spatial.length;
  spatial.forEach((size, i) => {
    const span = (kernel[i] - 1) * dilations[i] + 1;
    const padded = size + pads[i] + pads[i + n];
    let out = Math.ceil((padded - span) / strides[i]) + 1;
    if ((out - 1) * strides[i] >= size + pads[i]) out--;
    pads[i + n] = Math.max(pads[i + n], (out - 1) * strides[i] + span - size - pads[i]);
  });
}

export interface Window {
  x: Node;
  /** [H, W] kernel, strides, dilations; pads as [top, left, bottom, right]. */
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pads: [number, number, number, number];
  /** Shape the 2-D result is reshaped to at the end (1-D windows run as H = 1), or null. */
  restore: ((y: Node) => Node) | null;
}

/** Normalises a 1-D or 2-D windowed op to Kiln's 2-D form. */
export function window(c: OnnxContext, x: Node, kernel: number[], ceil = false): Window {
  const shape = shapeOf(x);
  const n = shape.length - 2;
  if (n !== 1 && n !== 2) c.unsupported(`${n}-D windows are not supported (Kiln has 1-D and 2-D convolution and pooling)`);
  const strides = ints(c, 'strides') ?? new Array<number>(n).fill(1);
  const dilations = ints(c, 'dilations') ?? new Array<number>(n).fill(1);
  if (kernel.length !== n || strides.length !== n || dilations.length !== n) c.unsupported(`kernel, strides and dilations must have ${n} entries`);
  const spatial = shape.slice(2);
  const pads = windowPads(c, spatial, kernel, strides, dilations);
  if (ceil) ceilPads(spatial, kernel, strides, dilations, pads);
  if (n === 2) {
    return { x, kernel: [kernel[0], kernel[1]], strides: [strides[0], strides[1]], dilations: [dilations[0], dilations[1]], pads: [pads[0], pads[1], pads[2], pads[3]], restore: null };
  }
  const x2 = reshape(c, x, [shape[0], shape[1], 1, shape[2]]);
  return {
    x: x2,
    kernel: [1, kernel[0]],
    strides: [1, strides[0]],
    dilations: [1, dilations[0]],
    pads: [0, pads[0], 0, pads[1]],
    restore: (y) => {
      const s = shapeOf(y);
      return reshape(c, y, [s[0], s[1], s[3]]);
    },
  };
}

export const windowAttrs = (w: Window) => ({ strides: w.strides, pads: w.pads, dilations: w.dilations });

export const conv: OnnxOp = (c) => {
  const x = c.input(0);
  let w = c.input(1);
  const ws = shapeOf(w);
  const kernel = ints(c, 'kernel_shape') ?? ws.slice(2);
  const win = window(c, x, kernel);
  if (win.restore) w = reshape(c, w, [ws[0], ws[1], 1, ws[2]]);
  let y = c.emit('conv2d', [win.x, w], { ...windowAttrs(win), group: int(c, 'group', 1) });
  if (c.has(2)) {
    const b = c.input(2);
    y = c.emit('add', [y, reshape(c, b, [shapeOf(b)[0], 1, 1])]);
  }
  return win.restore ? win.restore(y) : y;
};

export const pool = (op: 'maxPool2d' | 'avgPool2d'): OnnxOp => (c) => {
  const kernel = ints(c, 'kernel_shape');
  if (!kernel) return c.unsupported(`kernel_shape is required`);
  const x = c.input(0);
  const n = shapeOf(x).length - 2;
  if (n === 3) {
    // 3-D pooling: the N-D pooling op (Kiln's own pooling ops are 2-D).
    const strides = ints(c, 'strides') ?? [1, 1, 1];
    const dilations = ints(c, 'dilations') ?? [1, 1, 1];
    if (kernel.length !== 3 || strides.length !== 3 || dilations.length !== 3) c.unsupported(`kernel, strides and dilations must have 3 entries`);
    const spatial = shapeOf(x).slice(2);
    const countedPads = windowPads(c, spatial, kernel, strides, dilations);
    const pads = [...countedPads];
    if (int(c, 'ceil_mode', 0) !== 0) ceilPads(spatial, kernel, strides, dilations, pads);
    const indices = op === 'maxPool2d' ? maxPoolIndices(c, x, kernel) : undefined;
    const pooled = c.emit('poolNd', [x], {
      mode: op === 'maxPool2d' ? 'max' : 'avg',
      kernel,
      strides,
      dilations,
      pads,
      countIncludePad: int(c, 'count_include_pad', 0) !== 0,
      countedPads,
    });
    return indices ? [pooled, indices] : pooled;
  }
  const win = window(c, x, kernel, int(c, 'ceil_mode', 0) !== 0);
  const indices = op === 'maxPool2d' ? maxPoolIndices(c, x, kernel) : undefined;
  const attrs: Record<string, unknown> = { ...windowAttrs(win), kernel: win.kernel };
  if (op === 'avgPool2d') attrs.countIncludePad = int(c, 'count_include_pad', 0) !== 0;
  const y = c.emit(op, [win.x], attrs);
  const out = win.restore ? win.restore(y) : y;
  return indices ? [out, indices] : out;
};

/** MaxPool's optional Indices output, made only when the node names it. */
export function maxPoolIndices(c: OnnxContext, x: Node, kernel: number[]): Node | undefined {
  if (!c.wantsOutput(1)) return undefined;
  const n = kernel.length;
  const strides = ints(c, 'strides') ?? new Array<number>(n).fill(1);
  const dilations = ints(c, 'dilations') ?? new Array<number>(n).fill(1);
  const spatial = shapeOf(x).slice(2);
  const pads = [...windowPads(c, spatial, kernel, strides, dilations)];
  if (int(c, 'ceil_mode', 0) !== 0) ceilPads(spatial, kernel, strides, dilations, pads);
  return c.emit('maxPoolIndices', [x], { mode: 'max', kernel, strides, dilations, pads, columnMajor: int(c, 'storage_order', 0) !== 0 });
}

export const globalPool = (op: 'reduceMean' | 'reduceMax'): OnnxOp => (c) => {
  const x = c.input(0);
  const rank = shapeOf(x).length;
  if (rank < 3) c.unsupported(`expected input [N, C, ...spatial]`);
  if (op === 'reduceMean') return c.emit('globalAvgPool', [x]);
  return c.emit(op, [x], { axes: Array.from({ length: rank - 2 }, (_, i) => i + 2), keepdims: true });
};
