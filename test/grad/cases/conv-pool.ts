// Gradient-check cases for conv2d (stride, asymmetric padding, dilation, groups),
// maxPool2d (stride, padding, overlapping windows; distinct values so every max is unique),
// avgPool2d (padding counted in or out of the divisor)
// and globalAvgPool, on NCHW inputs.
import { makeNode } from '../../../src/ir/build.ts';
import type { Dim } from '../../../src/ir/shape.ts';
import { distinct, type GradCase } from '../check.ts';

type Pair = [number, number];
type Pads = [number, number, number, number];

interface Window {
  strides?: Pair;
  pads?: Pads;
  dilations?: Pair;
}
const window = (w: Window) => ({ strides: w.strides ?? [1, 1], pads: w.pads ?? [0, 0, 0, 0], dilations: w.dilations ?? [1, 1] });

const conv = (name: string, x: Dim[], w: number[], a: Window & { group?: number }, batch = 2): GradCase => ({
  name,
  inputs: [{ shape: x }, { shape: w }],
  build: ([xs, ws]) => makeNode('conv2d', [xs, ws], { ...window(a), group: a.group ?? 1 }),
  batch,
});

const pool = (name: string, x: Dim[], kernel: Pair, a: Window, batch = 2): GradCase => ({
  name,
  inputs: [{ shape: x, init: distinct(0.05) }],
  build: ([xs]) => makeNode('maxPool2d', [xs], { kernel, ...window(a) }),
  batch,
});

const avgPool = (name: string, x: Dim[], kernel: Pair, a: Window & { countIncludePad?: boolean }, batch = 2): GradCase => ({
  name,
  inputs: [{ shape: x }],
  build: ([xs]) => makeNode('avgPool2d', [xs], { kernel, ...window(a), countIncludePad: a.countIncludePad ?? false }),
  batch,
});

export const CASES: GradCase[] = [
  conv('conv-plain', ['N', 1, 4, 4], [2, 1, 2, 2], {}),
  conv('conv-stride', ['N', 2, 7, 6], [3, 2, 3, 3], { strides: [2, 2] }),
  conv('conv-asym-pad', ['N', 2, 5, 6], [3, 2, 3, 2], { pads: [1, 0, 2, 1] }, 3),
  conv('conv-dilation', ['N', 1, 7, 7], [2, 1, 3, 3], { dilations: [2, 2] }),
  conv('conv-stride-pad-dilation', ['N', 2, 6, 7], [3, 2, 3, 2], { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2] }),
  conv('conv-group2', ['N', 4, 5, 5], [4, 2, 3, 3], { group: 2 }),
  conv('conv-group2-stride-pad', ['N', 4, 5, 6], [6, 2, 2, 3], { group: 2, strides: [2, 2], pads: [1, 2, 0, 1], dilations: [2, 1] }, 3),
  conv('conv-depthwise', ['N', 3, 4, 4], [3, 1, 3, 3], { group: 3, pads: [1, 1, 1, 1] }),
  conv('conv-1x1', ['N', 3, 3, 3], [2, 3, 1, 1], {}),
  // Padding wider than the kernel (border outputs read only zeros) and strides that skip inputs.
  conv('conv-pad-wider-than-kernel', ['N', 1, 3, 3], [2, 1, 2, 2], { pads: [2, 1, 2, 3] }),
  conv('conv-stride-skips-inputs', ['N', 2, 7, 7], [2, 2, 2, 2], { strides: [3, 3] }),
  conv('conv-unbatched', [2, 2, 4, 4], [2, 2, 2, 2], { strides: [2, 2] }),
  pool('maxpool-2x2-s2', ['N', 2, 4, 6], [2, 2], { strides: [2, 2] }),
  pool('maxpool-3x3-s2-pad1', ['N', 2, 5, 5], [3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }, 3),
  pool('maxpool-asym-pad', ['N', 1, 5, 6], [2, 3], { strides: [1, 2], pads: [0, 1, 1, 0] }),
  pool('maxpool-overlap-s1', ['N', 2, 4, 4], [2, 2], {}),
  pool('maxpool-stride-skips-inputs', ['N', 1, 7, 7], [2, 2], { strides: [3, 3] }),
  pool('maxpool-dilation', ['N', 1, 6, 6], [2, 2], { strides: [1, 1], dilations: [2, 2], pads: [1, 0, 0, 1] }),
  avgPool('avgpool-2x2-s2', ['N', 2, 4, 6], [2, 2], { strides: [2, 2] }),
  avgPool('avgpool-asym-pad-excl', ['N', 2, 5, 5], [3, 2], { strides: [2, 1], pads: [1, 0, 1, 1] }, 3),
  avgPool('avgpool-pad-incl', ['N', 1, 5, 5], [2, 2], { strides: [2, 2], pads: [1, 1, 0, 0], countIncludePad: true }),
  { name: 'globalavgpool', inputs: [{ shape: ['N', 3, 4, 5] }], build: ([x]) => makeNode('globalAvgPool', [x]) },
  { name: 'globalavgpool-rank3', inputs: [{ shape: ['N', 2, 5] }], build: ([x]) => makeNode('globalAvgPool', [x]), batch: 3 },
  { name: 'globalavgpool-rank5', inputs: [{ shape: ['N', 2, 2, 3, 2] }], build: ([x]) => makeNode('globalAvgPool', [x]) },
  // conv → tanh → max pool → global average pool, differentiated at once.
  {
    name: 'conv-tanh-pool-gap',
    inputs: [{ shape: ['N', 2, 6, 6] }, { shape: [3, 2, 3, 3], range: [-0.5, 0.5] }],
    build: ([x, w]) => {
      const y = makeNode('tanh', [makeNode('conv2d', [x, w], { ...window({ pads: [1, 1, 1, 1] }), group: 1 })]);
      const p = makeNode('maxPool2d', [y], { kernel: [2, 2], ...window({ strides: [2, 2] }) });
      return makeNode('globalAvgPool', [p]);
    },
  },
];
