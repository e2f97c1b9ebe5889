// The fuzz harness itself: its seeds load and pass unmutated, and its oracle fails what it must fail.
import { describe, expect, it } from 'vitest';
import { KilnError, ShapeError } from '../../src/ir/errors.ts';
import { WeightFileError } from '../../runtime/weights-header.ts';
import { classifyThrow, compareArrays } from './oracle.ts';
import { allOnnxSeeds, EXAMPLE_SEEDS, NODE_TESTS } from './seeds.ts';
import { makeTarget } from './targets.ts';
import { existsSync } from 'node:fs';

describe('fuzz oracle', () => {
  it('takes Kiln errors with one-line messages as clear errors, and nothing else', () => {
    expect(classifyThrow('x', new KilnError('bad input')).kind).toBe('error');
    expect(classifyThrow('x', new ShapeError({ op: 'add' }, 'shapes differ')).kind).toBe('error');
    expect(classifyThrow('x', new WeightFileError('bad file')).kind).toBe('error');
    expect(classifyThrow('x', new TypeError('x is undefined')).kind).toBe('failure');
    expect(classifyThrow('x', new RangeError('Maximum call stack size exceeded'))).toMatchObject({ kind: 'failure', failure: 'stack overflow at x' });
    expect(classifyThrow('x', new Error('internal: broken')).kind).toBe('failure');
    // KilnError's constructor escapes line breaks, so the oracle sees a multi-line message only if one is set afterwards.
    expect(classifyThrow('x', Object.assign(new KilnError('x'), { message: 'two\nlines' })).kind).toBe('failure');
    expect(classifyThrow('x', new KilnError('')).kind).toBe('failure');
    expect(classifyThrow('x', 'a string').kind).toBe('failure');
  });

  it('compares within float32 tolerance and names the worst element', () => {
    expect(compareArrays('y', Float32Array.of(1, 2.0000001), [1, 2])).toBeNull();
    expect(compareArrays('y', Float32Array.of(1, 2.01), [1, 2])).toMatch(/element 1/);
    expect(compareArrays('y', Float32Array.of(NaN), [1])).toMatch(/element 0/);
    expect(compareArrays('y', Float32Array.of(1), [1, 2])).toMatch(/1 values/);
    expect(compareArrays('y', undefined, [1])).toMatch(/missing/);
  });
});

describe('fuzz seeds', () => {
  it(`has the examples (${EXAMPLE_SEEDS.join(', ')}) exported to ONNX and at least ten node tests when ../shared has them`, async () => {
    const seeds = await allOnnxSeeds();
    expect(seeds.filter((s) => s.name.startsWith('examples/')).length).toBe(EXAMPLE_SEEDS.length);
    if (existsSync(NODE_TESTS)) expect(seeds.filter((s) => s.name.startsWith('test_')).length).toBeGreaterThanOrEqual(10);
  });

  it('every ONNX seed and every example, unmutated, runs and matches (ONNX and JSON against the interpreter, weights exactly)', async () => {
    const onnx = await makeTarget('onnx');
    const json = await makeTarget('json');
    const weights = await makeTarget('weights');
    const seeds = await allOnnxSeeds();
    const results: string[] = [];
    for (let i = 0; i < seeds.length; i++) {
      const o = await onnx.run({ seed: i, structured: [], bytes: [] });
      if (o.kind !== 'matched') results.push(`onnx ${seeds[i].name}: ${JSON.stringify(o)}`);
    }
    // The JSON seeds begin with the examples' graphs (the node tests' graphs are the ONNX seeds' above).
    for (let i = 0; i < EXAMPLE_SEEDS.length; i++) {
      const o = await json.run({ seed: i, edits: [], viaText: true });
      if (o.kind !== 'matched') results.push(`json seed ${i}: ${JSON.stringify(o)}`);
    }
    for (let i = 0; i < EXAMPLE_SEEDS.length; i++) {
      const o = await weights.run({ model: i, edits: [] });
      if (o.kind !== 'matched') results.push(`weights ${EXAMPLE_SEEDS[i]}: ${JSON.stringify(o)}`);
    }
    expect(results).toEqual([]);
  }, 120_000);
});
