// Node-only reading and crash-safe (temp file + rename) writing of Kiln weight files.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WeightFileError, decodeWeights, encodeWeights } from './weights.ts';
import type { WeightTensor } from './weights.ts';

/** A decoded weight file. */
export type WeightFileContents = { tensors: WeightTensor[]; meta: Record<string, unknown> };

/** A unique temporary path next to `path`, so the final rename stays on one filesystem. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Decodes `bytes`, prefixing any WeightFileError with the file's path. */
function decodeFrom(path: string, bytes: Uint8Array): WeightFileContents {
  try {
    return decodeWeights(bytes);
  } catch (err) {
    if (err instanceof WeightFileError) throw new WeightFileError(`${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * Reads and validates a weight file.
 * @throws WeightFileError (message prefixed with the path) if the contents are invalid;
 *   the usual Node errors (e.g. ENOENT) if the file cannot be read.
 */
export async function readWeightsFile(path: string): Promise<WeightFileContents> {
  return decodeFrom(path, await readFile(path));
}

/** Synchronous {@link readWeightsFile}. */
export function readWeightsFileSync(path: string): WeightFileContents {
  return decodeFrom(path, readFileSync(path));
}

/**
 * Encodes and writes a weight file atomically: the bytes go to a temporary file in the same
 * folder, are flushed to disk, and the temporary file is then renamed over `path`, so a crash
 * leaves either the old file or the complete new one, never a partial write.
 */
export async function writeWeightsFile(
  path: string,
  tensors: readonly WeightTensor[],
  meta?: Record<string, unknown>,
): Promise<void> {
  const bytes = encodeWeights(tensors, meta);
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Synchronous {@link writeWeightsFile}, with the same temp-file-and-rename guarantee. */
export function writeWeightsFileSync(path: string, tensors: readonly WeightTensor[], meta?: Record<string, unknown>): void {
  const bytes = encodeWeights(tensors, meta);
  const temp = tempPathFor(path);
  try {
    const fd = openSync(temp, 'wx');
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
