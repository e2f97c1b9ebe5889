// Bad sizes given to DSL layers (zero, negative, fractional, NaN, a string) are ShapeErrors naming the layer, the value and this file's line.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { avgPool2d, batchNorm, conv2d, dense, input, maxPool2d } from '../../src/dsl/layers.ts';
import { layers, sequential } from '../../src/dsl/sequential.ts';
import { ShapeError } from '../../src/ir/errors.ts';

/** The ShapeError `f` throws (fails the test on any other outcome). */
function shapeError(f: () => unknown): ShapeError {
  try {
    f();
  } catch (e) {
    if (e instanceof ShapeError) return e;
    throw new Error(`expected a ShapeError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  throw new Error('expected a ShapeError, got none');
}

/** The 1-based line of this file that holds `marker`. */
const lineOf = (marker: string) => readFileSync(new URL(import.meta.url), 'utf8').split('\n').findIndex((l) => l.includes(marker) && !l.includes('lineOf')) + 1;

const img = () => input([1, 8, 8]);

/** [what, builder, layer kind in the message, the bad value as printed]. */
const CASES: [string, () => unknown, string, string][] = [
  ['input([0])', () => input([0]), 'Input', 'got 0'],
  ['input([3, -1])', () => input([3, -1]), 'Input', 'got -1'],
  ['input([2.5])', () => input([2.5]), 'Input', 'got 2.5'],
  ['input(NaN)', () => input([NaN]), 'Input', 'got NaN'],
  ['dense(x, 0)', () => dense(input([4]), 0), 'Dense', 'units must be a positive integer, got 0'],
  ['dense(x, -3)', () => dense(input([4]), -3), 'Dense', 'got -3'],
  ['dense(x, 1.5)', () => dense(input([4]), 1.5), 'Dense', 'got 1.5'],
  ['dense(x, "8")', () => dense(input([4]), '8' as unknown as number), 'Dense', 'got "8"'],
  ['conv2d filters 0', () => conv2d(img(), { filters: 0, kernelSize: 3 }), 'Conv2D', 'filters must be a positive integer, got 0'],
  ['conv2d kernelSize 0', () => conv2d(img(), { filters: 2, kernelSize: 0 }), 'Conv2D', 'kernelSize must be a positive integer, got 0'],
  ['conv2d kernelSize [3, -1]', () => conv2d(img(), { filters: 2, kernelSize: [3, -1] }), 'Conv2D', 'got -1'],
  ['conv2d kernelSize [3]', () => conv2d(img(), { filters: 2, kernelSize: [3] as unknown as number }), 'Conv2D', 'got [3]'],
  ['conv2d strides 0', () => conv2d(img(), { filters: 2, kernelSize: 3, strides: 0 }), 'Conv2D', 'strides must be a positive integer, got 0'],
  ['conv2d groups 0', () => conv2d(img(), { filters: 2, kernelSize: 3, groups: 0 }), 'Conv2D', 'groups must be a positive integer, got 0'],
  ['conv2d dilation 0.5', () => conv2d(img(), { filters: 2, kernelSize: 3, dilation: 0.5 }), 'Conv2D', 'got 0.5'],
  ['conv2d on a flat input', () => conv2d(input([8]), { filters: 2, kernelSize: 3 }), 'Conv2D', '[N, 8]'],
  ['maxPool2d(x, 0)', () => maxPool2d(img(), 0), 'MaxPool2D', 'poolSize must be a positive integer, got 0'],
  ['avgPool2d(x, -2)', () => avgPool2d(img(), -2), 'AvgPool2D', 'got -2'],
  ['maxPool2d strides 0', () => maxPool2d(img(), { poolSize: 2, strides: 0 }), 'MaxPool2D', 'strides must be a positive integer, got 0'],
  ['maxPool2d on a flat input', () => maxPool2d(input([8]), 2), 'MaxPool2D', '[N, 8]'],
  ['batchNorm without a channel axis', () => batchNorm(input([])), 'BatchNorm', '[N]'],
];

describe('DSL sizes', () => {
  it.each(CASES)('%s is a ShapeError naming the layer, the value and this line', (_what, build, kind, value) => {
    const e = shapeError(build);
    expect(e.message).toContain(`(${kind})`);
    expect(e.message).toMatch(/layer '[a-z0-9]+_\d+'/);
    expect(e.message).toContain(value);
    expect(e.site.source?.file).toMatch(/dsl-sizes\.test\.ts$/);
  });

  it('a sequential layer declared with a bad size names the line that declared it', () => {
    const declared = layers.dense(0); // @bad-dense
    const e = shapeError(() => sequential({ name: 'm', input: [4] }, [declared]));
    expect(e.message).toContain('units must be a positive integer, got 0');
    expect(e.message).toContain('(Dense)');
    expect(e.site.source?.line).toBe(lineOf('// @bad-dense'));
  });

  it('an unknown activation, even a prototype key, is a ShapeError', () => {
    for (const activation of ['swish', 'toString', 'constructor']) {
      const e = shapeError(() => dense(input([4]), 2, { activation: activation as 'relu' }));
      expect(e.message).toContain(`unknown activation "${activation}"`);
    }
  });
});
