// Test helpers for the data tests: a fresh temp folder, and .npy bytes built by hand from NumPy's format description (not by the code under test).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary folder. */
export const tempDir = (tag: string): string => mkdtempSync(path.join(os.tmpdir(), `kiln-data-${tag}-`));

/**
 * An .npy file (format 1.0): magic, version, little-endian header length, a Python dict padded
 * with spaces to a 64-byte boundary ending in a newline, then the raw little-endian values.
 */
export function npyFile(descr: string, shape: number[], raw: Uint8Array, fortran = false): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const total = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = new Uint8Array(10 + dict.length);
  head.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(head.buffer).setUint16(8, dict.length, true);
  head.set(Buffer.from(dict, 'latin1'), 10);
  const out = new Uint8Array(head.length + raw.length);
  out.set(head);
  out.set(raw, head.length);
  return out;
}

/** Raw little-endian bytes of float64 values. */
export function f64Bytes(values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(values.length * 8));
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  return new Uint8Array(view.buffer);
}

/** Raw little-endian bytes of float32 values. */
export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return new Uint8Array(view.buffer);
}

/** Raw little-endian bytes of int64 values. */
export function i64Bytes(values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(values.length * 8));
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return new Uint8Array(view.buffer);
}

/** Writes `content` to `dir/name` and returns the path. */
export function put(dir: string, name: string, content: string | Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}
