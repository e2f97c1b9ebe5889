// .npy files (format 1.0, C order, little-endian) written and read by hand in the CLI tests, so
// their expectations do not go through Kiln's own reader (cli/data).
import { expect } from 'vitest';

/** A .npy file of float32 (`<f4`) or int32 (`<i4`) values. */
export function npy(values: readonly number[], shape: readonly number[], descr: '<f4' | '<i4' = '<f4'): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  const data = descr === '<f4' ? Float32Array.from(values) : Int32Array.from(values);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]);
}

/** A float32 .npy file's shape and values. */
export function readNpy(bytes: Buffer): { shape: number[]; values: number[] } {
  const len = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + len).toString('latin1');
  expect(header).toMatch(/'descr':\s*'<f4'/);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)![1].split(',').filter((s) => s.trim()).map(Number);
  const data = bytes.subarray(10 + len);
  return { shape, values: Array.from(new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length))) };
}

/** Every value within `tol` of the expected one, index by index; `what` names the array in failures. */
export function expectClose(got: readonly number[], want: readonly number[], tol = 1e-5, what = 'index'): void {
  expect(got, what).toHaveLength(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `${what} ${i}: ${g} vs ${want[i]}`).toBeLessThan(tol));
}
