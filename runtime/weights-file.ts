// Node-only reading and crash-safe (temp file + rename) writing of Kiln weight files.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-write.ts';
import { WeightFileError, decodeWeights, encodeWeights } from './weights.ts';
import type { WeightTensor } from './weights.ts';

/** A decoded weight file. */
export type WeightFileContents = { tensors: WeightTensor[]; meta: Record<string, unknown> };

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
 * @throws WeightFileError if the tensors cannot be encoded; FileError if the file cannot be written.
 */
export async function writeWeightsFile(
  path: string,
  tensors: readonly WeightTensor[],
  meta?: Record<string, unknown>,
): Promise<void> {
  await writeFileAtomic(path, encodeWeights(tensors, meta));
}

/** Synchronous {@link writeWeightsFile}, with the same temp-file-and-rename guarantee. */
export function writeWeightsFileSync(path: string, tensors: readonly WeightTensor[], meta?: Record<string, unknown>): void {
  writeFileAtomicSync(path, encodeWeights(tensors, meta));
}
