// CIFAR-10's binary format (written here byte by byte: 1 label byte, then 1024 red, 1024 green, 1024 blue bytes): the CHW->HWC transpose, and the seed CNN trained from the CLI on such files.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chwToHwc } from '../../cli/data/normalize.ts';
import { readCifarFolder } from '../../cli/data/image-formats.ts';
import { kiln, showRun } from '../e2e/helpers.ts';
import { tempDir } from './files.ts';

/** Pixel byte of record r, channel c, position p (a formula the test can recompute). */
const pixel = (r: number, c: number, p: number) => (r * 7 + c * 50 + p * 3) % 256;

function writeCifar(dir: string, perFile: number): void {
  mkdirSync(dir, { recursive: true });
  const names = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  names.forEach((name, f) => {
    const bytes = new Uint8Array(perFile * 3073);
    for (let k = 0; k < perFile; k++) {
      const r = f * perFile + k;
      bytes[k * 3073] = r % 10;
      for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) bytes[k * 3073 + 1 + c * 1024 + p] = pixel(r, c, p);
    }
    writeFileSync(path.join(dir, name), bytes);
  });
}

describe('CIFAR-10 binary files', () => {
  it('reads records across the five training files with their labels', () => {
    const dir = path.join(tempDir('cifar-read'), 'cifar-10-batches-bin');
    writeCifar(dir, 4);
    const raw = readCifarFolder(path.dirname(dir));
    expect(raw.train.x.count).toBe(20);
    expect(raw.test?.x.count).toBe(4);
    const row = new Float32Array(3072);
    raw.train.x.readRow(13, row, 0);
    expect([row[0], row[1024 + 5], row[2048 + 1023]]).toEqual([pixel(13, 0, 0), pixel(13, 1, 5), pixel(13, 2, 1023)]);
    const label = new Int32Array(1);
    raw.train.y.readRow(13, label, 0);
    expect(label[0]).toBe(3);
  });

  it('transposes [C, H, W] to [H, W, C] for channels-last models', () => {
    const row = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i); // c-major: c*4 + h*2 + w
    chwToHwc(3, 2, 2)(row);
    // out[(h*2 + w)*3 + c] = in[c*4 + h*2 + w]
    expect(Array.from(row)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  });

  it('trains examples/cifar-cnn.ts from the CLI (sgd, momentum 0.9, lr 0.01) for one epoch', async () => {
    const dir = tempDir('cifar-cli');
    writeCifar(path.join(dir, 'cifar'), 40);
    const r = await kiln('train', 'examples/cifar-cnn.ts', '--data', path.join(dir, 'cifar'), '--optimizer', 'sgd', '--momentum', '0.9', '--lr', '0.01', '--epochs', '1', '--batch-size', '20', '--out', path.join(dir, 'out'));
    expect(r.status, showRun(r)).toBe(0);
    expect(r.stdout).toMatch(/training on 200 samples of CIFAR-10/);
    expect(r.stdout).toMatch(/^epoch 1\/1: loss [\d.]+/m);
    expect(r.stdout).toMatch(/test accuracy: [\d.]+ % \(40 test samples/);
    expect(r.stdout).toContain('no predictions picture');
  }, 300_000);
});
