// A weight file given by path (createModel('model.weights.bin')) is read into the arrays the model
// allocates, through the checksum's 64 KiB window (from 1 MiB; a smaller one is read whole first),
// and checked as the same file's bytes are: same values, same errors in the same order, the
// checksum over every byte. The bytes (createModel(bytes)) are read the same way, as a file in
// memory, copied straight to the arrays; the reference for both is decodeWeights, which checks a
// file whole before it hands out a tensor, then the names and shapes, then the file's model.
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInPlace, resolveWeights, type ParameterInfo } from '../../runtime/model-io.ts';
import { SimdMemory } from '../../runtime/simd.ts';
import { savedTrainer } from '../../runtime/trainer-shell.ts';
import { FileError } from '../../runtime/file-errors.ts';
import { checkWeights, decodeWeights, encodeWeights, WeightFileError, type WeightTensor } from '../../runtime/weights.ts';
import { checkWeightsIdentity } from '../../runtime/weights-identity.ts';
import { openWeightsFile } from '../../runtime/weights-opener-node.ts';
import { bytesReader, readWeightsInPlace, useWeightsOpener, withWeightsFile, type WeightsReader } from '../../runtime/weights-reader.ts';

const params: ParameterInfo[] = [
  { name: 'w', dtype: 'float32', shape: [2, 3], init: { kind: 'zeros' }, trainable: true },
  { name: 'b', dtype: 'float32', shape: [3], init: { kind: 'zeros' }, trainable: true },
];
const W = Float32Array.from([1, -2, 3.5, 0.25, -0, 6]);
const B = Float32Array.from([7, 8, -9]);
const model = { name: 'tiny', graphHash: 'abc' };
const tensors = (): WeightTensor[] => [
  { name: 'w', dtype: 'float32', shape: [2, 3], data: W },
  { name: 'b', dtype: 'float32', shape: [3], data: B },
];
// A trainer's save(): the weights, then optimizer state the model skips (odd lengths: padding between).
const trainerSave = () =>
  encodeWeights([...tensors(), { name: 'm/w', dtype: 'float32', shape: [5], data: Float32Array.from([1, 2, 3, 4, 5]) }, { name: 'v/b', dtype: 'float32', shape: [1], data: Float32Array.from([0.5]) }], { model: 'tiny', graphHash: 'abc', steps: 3 });

let dir = '';
let count = 0;
/** Writes `bytes` to a fresh file; returns its path. */
const write = (bytes: Uint8Array): string => {
  const path = join(dir, `w${count++}.bin`);
  writeFileSync(path, bytes);
  return path;
};
/** The message `load` throws, or 'ok'. */
function attempt(load: () => unknown): string {
  try {
    load();
    return 'ok';
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(WeightFileError);
    return (err as Error).message;
  }
}
/** The reference: decodeWeights (the whole file checked), then names and shapes, then the file's model. */
function decoded(bytes: Uint8Array): string {
  return attempt(() => {
    const { tensors, meta } = decodeWeights(bytes);
    // A trainer's save() holds optimizer state too, which a model skips.
    const wanted = typeof meta.steps === 'number' ? tensors.filter((t) => params.some((p) => p.name === t.name)) : tensors;
    checkWeights(params.map(({ name, dtype, shape }) => ({ name, dtype, shape: shape as number[] })), wanted);
    checkWeightsIdentity(meta, model);
  });
}

/**
 * The message resolveWeights throws for `source`, or 'ok'; for bytes, the same as the reference
 * (decoded); for a path, the same as read in place (readInPlace: what a file of 1 MiB or more
 * takes), or the test fails.
 */
function outcome(source: Uint8Array | string, alloc = new SimdMemory().alloc): string {
  const message = attempt(() => resolveWeights(params, source, 0, model, false, alloc));
  if (typeof source === 'string') expect(attempt(() => withWeightsFile(source, (r) => readInPlace(params, r, model, false, alloc))), 'read in place').toBe(message);
  else expect(message, 'the bytes against decodeWeights').toBe(decoded(source));
  return message;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-path-'));
  useWeightsOpener((path) => openWeightsFile(fs, path));
});
afterAll(() => {
  useWeightsOpener(undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('createModel from a weight file path', () => {
  it('reads each tensor into an array of the model memory, with the values written', () => {
    const path = write(encodeWeights(tensors(), { model: 'tiny', graphHash: 'abc' }));
    type Alloc = SimdMemory['alloc'];
    const ways = [(alloc: Alloc) => resolveWeights(params, path, 0, model, false, alloc), (alloc: Alloc) => withWeightsFile(path, (r) => readInPlace(params, r, model, false, alloc))];
    for (const read of ways) {
      const memory = new SimdMemory();
      const w = read(memory.alloc);
      for (const a of w) expect(memory.owns(a)).toBe(true);
      expect(Array.from(w[0])).toEqual(Array.from(W));
      expect(Array.from(w[1])).toEqual(Array.from(B));
      expect(Object.is(w[0][4], -0)).toBe(true);
    }
  });

  it("reads a file of 1 MiB or more in place, through the checksum's 64 KiB window: no read of the whole file", () => {
    const big: ParameterInfo[] = [{ name: 'w', dtype: 'float32', shape: [300_000], init: { kind: 'zeros' }, trainable: true }];
    const data = Float32Array.from({ length: 300_000 }, (_, i) => Math.sin(i));
    const bytes = encodeWeights([{ name: 'w', dtype: 'float32', shape: [300_000], data }]);
    const path = write(bytes);
    const reads: number[] = [];
    useWeightsOpener((p) => {
      const r = openWeightsFile(fs, p);
      return { ...r, read: (into, at) => (reads.push(into.length), r.read(into, at)) };
    });
    try {
      const memory = new SimdMemory();
      const [w] = resolveWeights(big, path, 0, undefined, false, memory.alloc);
      expect(memory.owns(w)).toBe(true);
      expect(w).toEqual(data);
      // The tensor's 1.2 MB in whole windows and one shorter last piece; nothing larger is read.
      expect(reads.filter((n) => n === 65536)).toHaveLength(Math.floor(1_200_000 / 65536));
      expect(reads).toContain(1_200_000 % 65536);
      expect(Math.max(...reads)).toBeLessThanOrEqual(65536);
    } finally {
      useWeightsOpener((p) => openWeightsFile(fs, p));
    }
  });

  it('copies bytes already in memory straight into the arrays, one read per tensor, and checks them the same', () => {
    const big: ParameterInfo[] = [{ name: 'w', dtype: 'float32', shape: [300_000], init: { kind: 'zeros' }, trainable: true }];
    const data = Float32Array.from({ length: 300_000 }, (_, i) => Math.cos(i));
    const bytes = encodeWeights([{ name: 'w', dtype: 'float32', shape: [300_000], data }]);
    const reads: number[] = [];
    const inner = bytesReader(bytes);
    const reader: WeightsReader = { ...inner, read: (into, at) => (reads.push(into.length), inner.read(into, at)) };
    const memory = new SimdMemory();
    const [w] = readInPlace(big, reader, undefined, false, memory.alloc);
    expect(w).toEqual(data);
    expect(reads).toContain(1_200_000);
    // A flipped bit in the tensor is caught as in a file.
    const bad = bytes.slice();
    bad[bad.length - 100] ^= 1;
    expect(() => readInPlace(big, bytesReader(bad), undefined, false, memory.alloc)).toThrow(/checksum mismatch/);
  });

  it("takes a trainer's save: the weights, skipping (but checksumming) the optimizer state", () => {
    const bytes = trainerSave();
    const w = resolveWeights(params, write(bytes), 0, model);
    expect(Array.from(w[1])).toEqual(Array.from(B));
    // A flipped bit inside a skipped tensor (the last 4 bytes before the CRC are v/b's value).
    const bad = bytes.slice();
    bad[bad.length - 6] ^= 0x10;
    expect(outcome(write(bad))).toMatch(/checksum mismatch: file is corrupt/);
  });

  it('reads a file through the reader with few, exact reads: no buffer holds the whole file', () => {
    const bytes = encodeWeights(tensors());
    const reads: [number, number][] = [];
    const reader: WeightsReader = { byteLength: bytes.length, read: (into, at) => (reads.push([at, into.length]), into.set(bytes.subarray(at, at + into.length))), close() {} };
    const into = [new Uint8Array(24), new Uint8Array(12)];
    readWeightsInPlace(reader, () => into);
    expect(new Float32Array(into[0].buffer)).toEqual(W);
    // Preamble, header, w, b, the padding after b (to a multiple of 8), the CRC: each byte once.
    const data = bytes.length - 4 - 40;
    expect(reads).toEqual([[0, 16], [16, data - 16], [data, 24], [data + 24, 12], [data + 36, 4], [data + 40, 4]]);
  });

  it('gives the errors of the same bytes, prefixed with the path, for 300 random corruptions', () => {
    const bytes = trainerSave();
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed);
    const kinds = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const bad = bytes.slice();
      const at = next() % bad.length;
      bad[at] ^= 1 + (next() % 255);
      const path = write(bad);
      const fromBytes = outcome(bad);
      expect(outcome(path), `byte ${at}`).toBe(fromBytes === 'ok' ? 'ok' : `${path}: ${fromBytes}`);
      kinds.add(fromBytes.split(':')[0]);
    }
    // Magic, header length and checksum failures all came up (and were refused alike).
    expect(kinds.size).toBeGreaterThanOrEqual(3);
  });

  it('reports truncation, another model, and mismatched names as the bytes do', () => {
    const good = encodeWeights(tensors(), { model: 'other', graphHash: 'def' });
    for (const bytes of [good.subarray(0, good.length - 9), good.subarray(0, 30), good, encodeWeights([tensors()[0]])]) {
      const path = write(bytes);
      expect(outcome(path)).toBe(`${path}: ${outcome(bytes)}`);
    }
    expect(outcome(write(good))).toMatch(/belongs to another model, "other"/);
  });

  it('says checksum first when a corrupt file also has the wrong names (as decodeWeights does)', () => {
    const bytes = encodeWeights([tensors()[0]]);
    bytes[bytes.length - 8] ^= 1;
    expect(outcome(write(bytes))).toMatch(/checksum mismatch/);
  });

  it('refuses a missing file and a folder in one line', () => {
    const missing = join(dir, 'nope.bin');
    expect(() => resolveWeights(params, missing, 0)).toThrow(FileError);
    expect(() => resolveWeights(params, missing, 0)).toThrow(`cannot read weight file ${missing}: no such file or folder (ENOENT)`);
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    expect(() => resolveWeights(params, folder, 0)).toThrow(/^cannot read weight file .*folder: it is a folder, not a file/);
  });

  it("resumes a trainer from a save()'s path as from its bytes", () => {
    const bytes = trainerSave();
    expect(savedTrainer(write(bytes))).toEqual(bytes);
    expect(savedTrainer(write(encodeWeights(tensors())))).toBeUndefined();
  });

  it('refuses a path where no file system is installed, in one line', () => {
    useWeightsOpener(undefined);
    try {
      expect(() => resolveWeights(params, 'model.weights.bin', 0)).toThrow(/^cannot read weight file "model.weights.bin": a path is read only under Node/);
    } finally {
      useWeightsOpener((path) => openWeightsFile(fs, path));
    }
  });
});
