// Tests for Node weight-file I/O (atomic writes) and for the runtime's import hygiene.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { WeightFileError, encodeWeights } from '../../runtime/weights.ts';
import type { WeightTensor } from '../../runtime/weights.ts';
import {
  readWeightsFile,
  readWeightsFileSync,
  writeWeightsFile,
  writeWeightsFileSync,
} from '../../runtime/weights-file.ts';

const tensors: WeightTensor[] = [
  { name: 'k', dtype: 'float32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
  { name: 'n', dtype: 'int32', shape: [], data: Int32Array.from([9]) },
];

describe('weight files on disk', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-weights-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the encoded bytes and reads them back (async)', async () => {
    const path = join(dir, 'model.kw');
    await writeWeightsFile(path, tensors, { epoch: 2 });
    expect(new Uint8Array(readFileSync(path))).toEqual(encodeWeights(tensors, { epoch: 2 }));
    const back = await readWeightsFile(path);
    expect(back.meta).toEqual({ epoch: 2 });
    expect(Array.from(back.tensors[0].data)).toEqual([1, 2, 3, 4]);
    expect(readdirSync(dir)).toEqual(['model.kw']);
  });

  it('writes and reads synchronously, overwriting an existing file', () => {
    const path = join(dir, 'model.kw');
    writeFileSync(path, 'old contents');
    writeWeightsFileSync(path, tensors);
    const back = readWeightsFileSync(path);
    expect(back.tensors.map((t) => t.name)).toEqual(['k', 'n']);
    expect(Array.from(back.tensors[0].data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(back.tensors[1].data)).toEqual([9]);
    expect(back.meta).toEqual({});
    expect(readdirSync(dir)).toEqual(['model.kw']);
  });

  it('leaves the old file untouched and no temp files when encoding fails', async () => {
    const path = join(dir, 'model.kw');
    writeWeightsFileSync(path, tensors);
    const before = readFileSync(path);
    const bad: WeightTensor[] = [{ name: 'x', dtype: 'float32', shape: [3], data: new Float32Array(2) }];
    await expect(writeWeightsFile(path, bad)).rejects.toBeInstanceOf(WeightFileError);
    expect(() => writeWeightsFileSync(path, bad)).toThrow(WeightFileError);
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['model.kw']);
  });

  it('cleans up and rethrows when the rename fails', async () => {
    // Renaming a file over a non-empty directory fails, after the temp file has been written.
    const occupied = join(dir, 'occupied');
    mkdirSync(occupied);
    writeFileSync(join(occupied, 'f'), '');
    await expect(writeWeightsFile(occupied, tensors)).rejects.toThrow();
    expect(() => writeWeightsFileSync(occupied, tensors)).toThrow();
    expect(readdirSync(dir)).toEqual(['occupied']);
    await expect(writeWeightsFile(join(dir, 'missing', 'm.kw'), tensors)).rejects.toThrow(/ENOENT/);
  });

  it('names the path in decoding errors and passes fs errors through', async () => {
    const path = join(dir, 'corrupt.kw');
    const bytes = encodeWeights(tensors);
    bytes[bytes.length - 6] ^= 0xff;
    writeFileSync(path, bytes);
    await expect(readWeightsFile(path)).rejects.toThrow(`${path}: checksum mismatch: file is corrupt`);
    expect(() => readWeightsFileSync(path)).toThrow(WeightFileError);
    await expect(readWeightsFile(join(dir, 'nope.kw'))).rejects.toThrow(/ENOENT/);
  });
});

describe('runtime module hygiene', () => {
  const runtimeDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../runtime');
  // Every .ts file under runtime/, as a path relative to it ('fit/loop.ts').
  const files = (readdirSync(runtimeDir, { recursive: true }) as string[]).map((f) => f.split(sep).join('/')).filter((f) => f.endsWith('.ts'));
  const importsOf = (file: string): string[] =>
    [...readFileSync(join(runtimeDir, file), 'utf8').matchAll(/^(?:import|export)(?:[^'"]*from)?\s*'([^']+)'/gm)].map((m) => m[1]);
  /** The runtime file a relative specifier names, or undefined when it leaves runtime/. */
  const target = (file: string, spec: string): string | undefined => {
    const to = posix.normalize(posix.join(posix.dirname(file), spec));
    return to.startsWith('../') ? undefined : to;
  };

  it('never imports from src/ or compiler/, and uses .ts relative imports that stay inside runtime/', () => {
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = readFileSync(join(runtimeDir, file), 'utf8');
      expect(text.startsWith('// '), `${file} starts with a one-line comment`).toBe(true);
      for (const spec of importsOf(file)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(/(^|\/)(src|compiler)(\/|$)/);
        if (!spec.startsWith('.')) continue;
        expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\.?\/)+([\w-]+\/)*[\w-]+\.ts$/);
        expect(target(file, spec), `${file} imports ${spec}, outside runtime/`).toBeDefined();
      }
    }
  });

  it('keeps index.ts and everything it reaches free of Node built-ins', () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^node:|^(fs|path|module|os|crypto)$/);
        const to = spec.startsWith('.') ? target(file, spec) : undefined;
        if (to) visit(to);
      }
    };
    visit('index.ts');
    // The browser-safe runtime: a file joins this list only if it needs no Node built-in.
    expect([...seen].sort()).toEqual(REACHED_FROM_INDEX);
  });
});

/** What `kiln/runtime` (index.ts) loads: reviewed by hand, none of it touches Node's APIs. */
const REACHED_FROM_INDEX = [
  'batch-axis.ts',
  'checksum.ts',
  'contract.ts',
  'crc32.ts',
  'data/rows.ts',
  'file-errors.ts',
  'fit/callback-state.ts',
  'fit/callbacks.ts',
  'fit/evaluate.ts',
  'fit/loop.ts',
  'fit/lr.ts',
  'fit/metrics.ts',
  'fit/types.ts',
  'idx.ts',
  'index.ts',
  'init.ts',
  'math.ts',
  'model-io.ts',
  'node-host.ts',
  'rng.ts',
  'sample-source.ts',
  'schedules.ts',
  'simd.ts',
  'train-loop.ts',
  'trainer-shell.ts',
  'wasm-memories.ts',
  'weights-header.ts',
  'weights-identity.ts',
  'weights-opener-node.ts',
  'weights-reader.ts',
  'weights.ts',
  'xxh32.ts',
];
