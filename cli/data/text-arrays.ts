// Users' arrays as text: CSV (numeric, optional header row, one sample per row) and JSON (nested arrays), read and written.
import { parse as parseCsvText } from 'csv-parse/sync';
import { KilnError } from '../../src/ir/errors.ts';
import { formatDims, packNumbers, shortFloat32, sizeOf, type NumericArray } from './numeric.ts';

/** A cell as a number, or undefined when it is not one (an empty cell is not one either). */
function cellNumber(cell: string): number | undefined {
  const t = cell.trim();
  if (t === '') return undefined;
  const v = Number(t);
  return Number.isNaN(v) && !/^nan$/i.test(t) ? undefined : v;
}

/** Parses CSV text: rows of numbers, all of one length; a first row that is not all numbers is a header. */
export function parseCsv(text: string, file: string): NumericArray {
  let rows: string[][];
  try {
    rows = parseCsvText(text, { skip_empty_lines: true, trim: true, comment: '#' });
  } catch (e) {
    throw new KilnError(`${file} is not valid CSV: ${(e as Error).message}`);
  }
  const header = rows.length > 0 && rows[0].some((c) => cellNumber(c) === undefined);
  const body = header ? rows.slice(1) : rows;
  if (body.length === 0) throw new KilnError(`${file} holds no data rows`);
  const width = body[0].length;
  const values = new Float64Array(body.length * width);
  let integer = true;
  body.forEach((row, r) => {
    const line = r + (header ? 2 : 1);
    if (row.length !== width) throw new KilnError(`${file} line ${line}: ${row.length} values, the first data row has ${width}`);
    row.forEach((cell, c) => {
      const v = cellNumber(cell);
      if (v === undefined) throw new KilnError(`${file} line ${line}, column ${c + 1}: ${JSON.stringify(cell)} is not a number (CSV data must be numeric)`);
      values[r * width + c] = v;
      integer &&= Number.isInteger(v);
    });
  });
  const data = packNumbers(values, integer);
  // One column is a list of values (labels), not rows of one feature.
  return { data, shape: width === 1 ? [body.length] : [body.length, width], dtype: data instanceof Int32Array ? 'int32' : 'float64' };
}

/** Parses JSON text holding a number or nested arrays of numbers, all rows of one length. */
export function parseJsonArray(text: string, file: string): NumericArray {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new KilnError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  if (shape.length === 0 || shape.includes(0)) throw new KilnError(`${file} must hold a non-empty array of numbers (nested arrays for more dimensions)`);
  const values = new Float64Array(sizeOf(shape));
  let integer = true;
  let at = 0;
  // Iterative walk: a deep nesting must not overflow the stack.
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new KilnError(`${file}: element ${path} is ${JSON.stringify(v)}, expected a number (the array is ${formatDims(shape)})`);
      values[at++] = v;
      integer &&= Number.isInteger(v);
      continue;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new KilnError(`${file}: element ${path || '(top)'} should be an array of ${shape[depth]} (the first row's length), got ${Array.isArray(v) ? `${v.length} values` : JSON.stringify(v)}`);
    for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1, path: `${path}[${i}]` });
  }
  const data = packNumbers(values, integer);
  return { data, shape, dtype: data instanceof Int32Array ? 'int32' : 'float64' };
}

/** `data` as CSV: one sample (first dimension) per line, its values flattened. */
export function csvText(data: Float32Array | Int32Array, shape: readonly number[]): string {
  const rows = shape.length === 0 ? 1 : shape[0];
  const width = rows === 0 ? 0 : data.length / rows;
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) lines.push(Array.from(data.subarray(r * width, (r + 1) * width), shortFloat32).join(','));
  return lines.join('\n') + '\n';
}

/** `data` as JSON nested arrays of `shape`. */
export function jsonText(data: Float32Array | Int32Array, shape: readonly number[], file: string): string {
  for (const v of data) if (!Number.isFinite(v)) throw new KilnError(`cannot write ${file}: JSON has no ${v} (use .npy for non-finite values)`);
  const nest = (offset: number, depth: number): string => {
    if (depth === shape.length) return shortFloat32(data[offset]);
    const step = sizeOf(shape.slice(depth + 1));
    return `[${Array.from({ length: shape[depth] }, (_, i) => nest(offset + i * step, depth + 1)).join(',')}]`;
  };
  // Recursion depth is the number of dimensions (a handful), not the data size.
  return `${nest(0, 0)}\n`;
}
