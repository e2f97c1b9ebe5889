// Zero padding as WebAssembly bulk memory (compiler/codegen/wasm/simd-pad.ts): row copies and the
// fills between them, against the interpreter, exactly (a pad moves values; it computes none).
// Shapes: a convolution's symmetric pads, lopsided ones with zero sides, one padded axis of a
// rank-3 tensor (1-D convolution), several planes per sample and a rank-5 tensor; batches of 1, 3
// and 8 (a ThreadPool's split hands a kernel rows [lo, hi) of them). Pads it must leave to the
// JavaScript kernel: another value (even -0), negative pads (crops), a padded channel axis.
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ThreadPool } from '../../runtime/parallel.ts';
import { makeNode } from '../../src/ir/build.ts';
import { padPlanOf, renderPadKernel } from '../../compiler/codegen/wasm/simd-pad.ts';
import { emitToFile, feedsAndReference, type EdgeCase } from './simd-edge-cases.ts';

// Thresholds of 1: every kernel splits its rows between this thread and a worker.
const pool = new ThreadPool({ threshold: 1, simdThreshold: 1 });
afterAll(() => pool.close());

const pad = (name: string, shape: (number | 'N')[], pads: number[], value = 0): EdgeCase => ({
  name,
  shapes: [shape],
  build: ([x]) => makeNode('pad', [x], { pads, mode: 'constant', value }),
});

const DONE: EdgeCase[] = [
  pad('conv_1111', ['N', 3, 5, 7], [0, 0, 1, 1, 0, 0, 1, 1]),
  pad('lopsided', ['N', 2, 4, 6], [0, 0, 0, 2, 0, 0, 3, 0]),
  pad('only_right', ['N', 1, 3, 5], [0, 0, 0, 0, 0, 0, 0, 1]),
  pad('conv1d', ['N', 4, 9], [0, 0, 2, 0, 0, 2]),
  pad('rank5', ['N', 2, 3, 4, 5], [0, 0, 0, 1, 2, 0, 0, 0, 2, 1]),
];
const LEFT: EdgeCase[] = [
  pad('value_one', ['N', 2, 3, 3], [0, 0, 1, 1, 0, 0, 1, 1], 1),
  pad('negative_zero', ['N', 2, 3, 3], [0, 0, 1, 1, 0, 0, 1, 1], -0),
  pad('crop', ['N', 2, 4, 4], [0, 0, -1, 0, 0, 0, 1, 0]),
  pad('channels', ['N', 2, 3, 3], [0, 1, 1, 1, 0, 0, 1, 1]),
];

describe('zero padding as bulk memory', () => {
  it('takes the zero pads of the last two axes and leaves the rest to JavaScript', () => {
    const { program } = emitToFile('pad_plan', [...DONE, ...LEFT]);
    const pads = program.kernels.filter((k) => k.ops[0] === 'pad');
    expect(pads.length).toBe(DONE.length + LEFT.length);
    for (const k of pads) {
      const name = String(k.reads[0].attrs.name).replace(/_x0$/, '');
      const want = DONE.some((c) => c.name === name);
      expect(!!padPlanOf(k), name).toBe(want);
      if (want) expect(renderPadKernel(k)!.how, name).toMatch(/memory\.copy/);
    }
  });

  for (const batch of [1, 3, 8]) {
    it(`batch ${batch}: every value where the interpreter puts it, SIMD on and off, and on two threads`, async () => {
      const cases = [...DONE, ...LEFT];
      const { file } = emitToFile(`pad_${batch}`, cases);
      const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { createModel: (w?: object, o?: object) => { run: (f: object, b: number) => Record<string, Float32Array>; memory?: object } };
      const { feeds, want } = feedsAndReference(cases, batch);
      for (const [simd, threads] of [[true, false], [false, false], [true, true]]) {
        const model = mod.createModel({}, threads ? { pool } : { simd });
        expect(!!model.memory, 'SIMD memory in use').toBe(simd);
        const got = model.run(feeds, batch);
        for (const c of cases) expect(Array.from(got[c.name]).map((v) => (Object.is(v, -0) ? '-0' : v)), `${c.name}, simd ${simd}${threads ? ', two threads' : ''}`).toEqual(Array.from(want[c.name]).map((v) => (Object.is(v, -0) ? '-0' : v)));
      }
    });
  }
});
