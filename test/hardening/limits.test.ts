// Tiny inputs that imply huge work or memory are refused by check (or by the ONNX import, before
// anything is built), naming the node and the figure; the limit can be raised (API and --max-memory).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkGraph } from '../../compiler/check/check.ts';
import { compileModel } from '../../compiler/compile.ts';
import { dense, input } from '../../src/dsl/layers.ts';
import { model } from '../../src/dsl/model.ts';
import { makeNode } from '../../src/ir/build.ts';
import { ShapeError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { DEFAULT_LIMITS, formatBytes, LimitError, parseSize } from '../../src/ir/limits.ts';
import type { Node } from '../../src/ir/node.ts';
import { freshOutDir, kiln, showRun } from '../e2e/helpers.ts';
import { thrown } from '../ops/harness.ts';

const leaf = (name: string, shape: (number | 'N')[]): Node => makeNode('input', [], { name, dtype: 'float32', shape });
const graphOf = (inputs: Node[], out: Node): Graph => ({ name: 'g', inputs, outputs: [{ name: 'y', node: out }] });

describe('shapes of 2^31 elements and more', () => {
  it('a broadcast to [N, 46341, 46341] (2^31 + 4,680 elements) is refused by check, naming the layer', () => {
    const a = leaf('a', ['N', 46341, 1]);
    const b = leaf('b', [46341]);
    const sum = makeNode('add', [a, b], {}, { layer: 'outer' });
    const e = thrown(() => checkGraph(graphOf([a, b], sum)));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toContain("layer 'outer'");
    expect(e.message).toContain('[N, 46341, 46341]');
    expect(e.message).toContain('2^31-1');
  });

  it('an input of [2^31] is refused where it is made', () => {
    expect(() => leaf('x', ['N', 2 ** 31])).toThrow(ShapeError);
    expect(() => leaf('x', [2 ** 16, 2 ** 15])).toThrow(/more than 2\^31-1/);
  });

  it('a value of 6 GiB per sample (1.6e9 elements, under 2^31) is refused by the memory limit', () => {
    const a = leaf('a', ['N', 40000, 1]);
    const b = leaf('b', [40000]);
    const sum = makeNode('add', [a, b], {}, { layer: 'outer' });
    const e = thrown(() => checkGraph(graphOf([a, b], sum)));
    expect(e).toBeInstanceOf(LimitError);
    // 40000² · 4 bytes = 6.4e9 bytes = 5.96 GiB.
    expect(e.message).toContain("layer 'outer' (add): its result [N, 40000, 40000] is 6 GiB per sample, over the 4 GiB limit");
    expect(e.message).toContain('--max-memory');
  });

  it('a matmul of 8.8e12 FLOPs per sample (3 GiB of memory) is refused by the work limit', () => {
    const x = leaf('x', ['N', 16384, 16384]);
    const w = makeNode('param', [], { name: 'w', dtype: 'float32', shape: [16384, 16384], init: { kind: 'zeros' }, trainable: true });
    const y = makeNode('matmul', [x, w], { transA: false, transB: false }, { layer: 'huge' });
    const e = thrown(() => checkGraph(graphOf([x], y)));
    expect(e).toBeInstanceOf(LimitError);
    // 2 · 16384³ = 8,796,093,022,208.
    expect(e.message).toContain('8,796,093,022,208 FLOPs per sample');
    expect(e.message).toContain("layer 'huge' (matmul)");
  });
});

describe('the memory limit: exact at the edge, raisable', () => {
  // dense(100 → 50) at batch 1: parameters 100·50·4 + 50·4 = 20,200 bytes; activations peak
  // while the matmul runs, with its input (400 bytes) and its result (200) alive: 600 bytes.
  const small = (): Graph => {
    const x = input([100]);
    return model({ name: 'small', inputs: x, outputs: dense(x, 50) }).graph;
  };

  it('passes at exactly the bytes it needs, and is refused one byte below', () => {
    expect(checkGraph(small(), { ...DEFAULT_LIMITS, maxMemory: 20_800 })).toBeTruthy();
    const e = thrown(() => checkGraph(small(), { ...DEFAULT_LIMITS, maxMemory: 20_799 }));
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toContain('20.3 KiB');
  });

  it('compileModel takes the limit as an option', () => {
    expect(() => compileModel(small(), { limits: { maxMemory: 20_799 } })).toThrow(LimitError);
  });

  it('a node limit refuses a long chain', () => {
    const x = leaf('x', ['N', 4]);
    let h = x;
    for (let i = 0; i < 200; i++) h = makeNode('neg', [h]);
    const e = thrown(() => checkGraph(graphOf([x], h), { ...DEFAULT_LIMITS, maxNodes: 100 }));
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toContain('201 nodes, over the 100-node limit');
  });

  it('sizes parse as binary units and print back', () => {
    expect(parseSize('8GB')).toBe(8 * 2 ** 30);
    expect(parseSize('512MB')).toBe(512 * 2 ** 20);
    expect(parseSize('4GiB')).toBe(2 ** 32);
    expect(parseSize('1.5g')).toBe(1.5 * 2 ** 30);
    expect(parseSize('1000')).toBe(1000);
    for (const bad of ['', 'lots', '-1GB', '0', '8 XB', 'NaN']) expect(() => parseSize(bad)).toThrow(/a size must look like/);
    expect(formatBytes(4 * 2 ** 30)).toBe('4 GiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });

  describe('kiln check --max-memory', () => {
    const dir = freshOutDir('hardening-limits');
    // dense(32768 → 32760): a weight of 32768 · 32760 · 4 bytes = 4 GiB − 1 MiB, just under the default;
    // dense(32768 → 32800): 4 GiB + 4 MiB, just over it. Checking allocates none of it.
    const modelFile = (units: number) => {
      const file = path.join(dir, `dense${units}.ts`);
      writeFileSync(file, `import { dense, input, model } from '../../../src/index.ts';\nconst x = input([32768]);\nexport default model({ name: 'wide', inputs: x, outputs: dense(x, ${units}) });\n`);
      return path.relative(process.cwd(), file);
    };

    it('just under the default passes; just over is refused naming the layer and figure; 5GB lets it pass', async () => {
      const [under, over] = [modelFile(32760), modelFile(32800)];
      const ok = await kiln('check', under);
      expect(ok.status, showRun(ok)).toBe(0);
      const refused = await kiln('check', over);
      expect(refused.status, showRun(refused)).toBe(1);
      expect(refused.stderr).toContain("layer 'dense_1' (param 'dense_1/kernel'): parameter [32768, 32800] is 4 GiB (4,299,161,600 bytes, the limit 4,294,967,296), over the 4 GiB limit");
      expect(refused.stderr).toContain('--max-memory');
      expect(refused.stderr).not.toMatch(/\n\s+at /);
      const raised = await kiln('check', over, '--max-memory', '5GB');
      expect(raised.status, showRun(raised)).toBe(0);
      const lowered = await kiln('check', under, '--max-memory', '512MB');
      expect(lowered.status, showRun(lowered)).toBe(1);
      expect(lowered.stderr).toContain('over the 512 MiB limit');
    }, 60_000);
  });
});
