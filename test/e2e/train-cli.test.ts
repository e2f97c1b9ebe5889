// `kiln train` as a process: MNIST accuracy, bit-identical reruns, the saved weight file, the PNG, bad inputs.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphParams } from '../../src/ir/graph.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { freshOutDir, loadExampleGraph, ROOT } from './helpers.ts';
import { kiln, showRun, type KilnRun } from './helpers.ts';

type Result = KilnRun;
const show = showRun;
const line = (r: Result, prefix: string) => r.stdout.split('\n').find((l) => l.startsWith(prefix));
const QUICK = ['--data', 'mnist', '--epochs', '1', '--batch-size', '64', '--limit', '2000', '--seed', '1'];

describe('kiln train', () => {
  let a: Result;
  let b: Result;
  let bad: Result;
  let outA: string;
  let outB: string;

  beforeAll(async () => {
    outA = freshOutDir('train-cli-a');
    outB = freshOutDir('train-cli-b');
    const rel = (dir: string) => path.relative(ROOT, dir);
    [a, b, bad] = await Promise.all([
      kiln('train', 'examples/mlp256.ts', ...QUICK, '--out', rel(outA), '--save', rel(path.join(outA, 'trained.bin'))),
      kiln('train', 'examples/mlp256.ts', ...QUICK, '--out', rel(outB)),
      kiln('train', 'examples/cifar-cnn.ts', '--limit', '10', '--out', rel(path.join(outB, 'cifar'))),
    ]);
  });

  it('trains mlp256 on 2,000 MNIST images to over 80 % test accuracy', () => {
    expect(a.status, show(a)).toBe(0);
    expect(a.stdout).toMatch(/^epoch 1\/1: loss [\d.]+, accuracy [\d.]+ %, [\d.]+ s, \d+ samples\/s$/m);
    const accuracy = /^test accuracy: ([\d.]+) %/m.exec(a.stdout);
    expect(accuracy, show(a)).not.toBeNull();
    expect(Number(accuracy![1])).toBeGreaterThan(80);
  });

  it('gives the same final loss to the bit with the same seed', () => {
    expect(b.status, show(b)).toBe(0);
    const [la, lb] = [line(a, 'final training loss: '), line(b, 'final training loss: ')];
    expect(la, show(a)).toBeDefined();
    expect(la).toBe(lb);
    expect(line(a, 'test accuracy: ')).toBe(line(b, 'test accuracy: '));
  });

  it('--save writes a weight file with every parameter of the model and the step count', async () => {
    const file = path.join(outA, 'trained.bin');
    expect(existsSync(file), show(a)).toBe(true);
    const { tensors, meta } = decodeWeights(readFileSync(file));
    const byName = new Map(tensors.map((t) => [t.name, t]));
    const params = graphParams(await loadExampleGraph('mlp256'));
    expect(params.length).toBeGreaterThan(0);
    for (const p of params) {
      const t = byName.get(String(p.attrs.name));
      expect(t, `missing ${String(p.attrs.name)}`).toBeDefined();
      expect(t!.shape).toEqual(p.type.shape);
    }
    expect(meta.steps).toBe(Math.ceil(2000 / 64));
  });

  it('writes the predictions PNG (default <out>/predictions.png)', () => {
    const file = path.join(outA, 'predictions.png');
    expect(existsSync(file), show(a)).toBe(true);
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const png = PNG.sync.read(bytes);
    expect(png.width).toBeGreaterThan(10 * 28);
    expect(png.height).toBeGreaterThan(28);
  });

  it('refuses a model whose input is not 784 values per sample, with a message', () => {
    expect(bad.status, show(bad)).toBe(1);
    expect(bad.stderr).toContain('784 values per sample');
    expect(bad.stderr).toContain('[N, 3, 32, 32]');
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });
});
