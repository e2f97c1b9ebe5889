// One call to read or write a user's array by file extension (.npy, .csv, .json): for kiln train, predict and evaluate.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../../runtime/atomic-write.ts';
import { fileError } from '../../runtime/file-errors.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { npyBytes, parseNpy } from './npy.ts';
import { formatDims, sizeOf, type NumericArray } from './numeric.ts';
import { csvText, jsonText, parseCsv, parseJsonArray } from './text-arrays.ts';

export type { NumericArray } from './numeric.ts';

const KINDS = ['.npy', '.csv', '.json'] as const;
type Kind = (typeof KINDS)[number];

/** The format of `file` from its extension, or a clear error. */
export function arrayKind(file: string): Kind {
  const ext = path.extname(file).toLowerCase();
  if ((KINDS as readonly string[]).includes(ext)) return ext as Kind;
  throw new KilnError(`${file}: unknown array file type '${ext || '(none)'}' (expected .npy, .csv or .json)`);
}

/** Reads an array file: integers as Int32Array, other numbers as Float32Array, with its shape and the file's dtype. */
export function readArray(file: string): NumericArray {
  const kind = arrayKind(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw fileError('read', file, e);
  }
  if (kind === '.npy') return parseNpy(bytes, file);
  const text = bytes.toString('utf8');
  return kind === '.csv' ? parseCsv(text, file) : parseJsonArray(text, file);
}

/** Writes `data` with `shape` to `file` (.npy, .csv: one sample per line, .json: nested arrays), atomically. */
export function writeArray(file: string, data: Float32Array | Int32Array, shape: readonly number[]): void {
  const kind = arrayKind(file);
  if (sizeOf(shape) !== data.length) throw new KilnError(`cannot write ${file}: shape ${formatDims(shape)} holds ${sizeOf(shape)} values, got ${data.length}`);
  const content = kind === '.npy' ? npyBytes(data, shape) : kind === '.csv' ? csvText(data, shape) : jsonText(data, shape, file);
  writeFileAtomicSync(file, content);
}
