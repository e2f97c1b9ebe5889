// Types, constants and strict validation of the JSON header of Kiln weight files (see weights.ts).

/** Element types a weight tensor can have. */
export type WeightDType = 'float32' | 'float64' | 'int32';

/** Typed-array storage for a weight tensor. */
export type WeightData = Float32Array | Float64Array | Int32Array;

/** A named tensor stored in, or loaded from, a weight file. */
export type WeightTensor = { name: string; dtype: WeightDType; shape: number[]; data: WeightData };

/** The name, dtype and shape a model expects for one tensor (see `checkWeights`). */
export type WeightTensorSpec = { name: string; dtype: WeightDType; shape: readonly number[] };

/** One tensor's entry in the file header; `offset` is relative to the start of the data section. */
export type WeightHeaderEntry = { name: string; dtype: WeightDType; shape: number[]; offset: number; byteLength: number };

/** Raised for every problem reading, writing or checking a weight file. */
export class WeightFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeightFileError';
  }
}

/** Bytes per element of each dtype. */
export const ITEM_SIZE: Readonly<Record<WeightDType, number>> = { float32: 4, float64: 8, int32: 4 };

/** Highest tensor rank accepted in a header. */
export const MAX_RANK = 32;

/** Whether `value` names a supported dtype (own property only, so "constructor" etc. are rejected). */
export function isWeightDType(value: unknown): value is WeightDType {
  return typeof value === 'string' && Object.hasOwn(ITEM_SIZE, value);
}

/** Formats a shape the way error messages show it, e.g. `[784, 64]`. */
export function formatShape(shape: readonly unknown[]): string {
  return `[${shape.map((d) => String(d)).join(', ')}]`;
}

/** Whether `value` is a non-null, non-array object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Number of elements of `shape`, or an error string if the shape is not a list of
 * non-negative integers (at most {@link MAX_RANK} of them) whose product is a safe integer.
 */
export function shapeSize(shape: unknown): number | string {
  if (!Array.isArray(shape)) return 'shape must be an array of dimensions';
  if (shape.length > MAX_RANK) return `rank ${shape.length} exceeds the maximum of ${MAX_RANK}`;
  let count = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      return `dimensions must be non-negative integers, got ${formatShape(shape)}`;
    }
    count *= dim;
  }
  if (!Number.isSafeInteger(count)) return `shape ${formatShape(shape)} has an absurd number of elements`;
  return count;
}

/** Describes entry `index` for error messages, using its name when it has a usable one. */
function label(raw: Record<string, unknown>, index: number): string {
  return typeof raw.name === 'string' ? `tensor #${index} (${JSON.stringify(raw.name)})` : `tensor #${index}`;
}

/** Validates one header entry against a data section of `dataLength` bytes. */
function validateEntry(raw: unknown, index: number, dataLength: number): WeightHeaderEntry {
  if (!isPlainObject(raw)) throw new WeightFileError(`malformed header: tensor #${index} is not an object`);
  const where = `malformed header: ${label(raw, index)}`;
  const { name, dtype, shape, offset, byteLength } = raw;
  if (typeof name !== 'string' || name.length === 0) throw new WeightFileError(`${where}: name must be a non-empty string`);
  if (!isWeightDType(dtype)) {
    throw new WeightFileError(`${where}: unknown dtype ${JSON.stringify(dtype)} (expected float32, float64 or int32)`);
  }
  const count = shapeSize(shape);
  if (typeof count === 'string') throw new WeightFileError(`${where}: ${count}`);
  const itemSize = ITEM_SIZE[dtype];
  if (count * itemSize > dataLength) {
    throw new WeightFileError(
      `${where}: shape ${formatShape(shape as number[])} needs ${count * itemSize} bytes but the data section has only ${dataLength}`,
    );
  }
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || offset % 8 !== 0) {
    throw new WeightFileError(`${where}: offset must be a non-negative multiple of 8, got ${String(offset)}`);
  }
  if (typeof byteLength !== 'number' || !Number.isSafeInteger(byteLength) || byteLength < 0) {
    throw new WeightFileError(`${where}: byteLength must be a non-negative integer, got ${String(byteLength)}`);
  }
  if (byteLength !== count * itemSize) {
    throw new WeightFileError(
      `${where}: byteLength ${byteLength} does not match shape ${formatShape(shape as number[])} of ${dtype} (${count * itemSize} bytes)`,
    );
  }
  if (offset + byteLength > dataLength) {
    throw new WeightFileError(
      `${where}: bytes [${offset}, ${offset + byteLength}) lie outside the ${dataLength}-byte data section`,
    );
  }
  return { name, dtype, shape: (shape as number[]).slice(), offset, byteLength };
}

/** Throws if two entries share a name or their byte ranges overlap. */
function checkDisjoint(entries: readonly WeightHeaderEntry[]): void {
  const names = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name)) throw new WeightFileError(`malformed header: duplicate tensor name ${JSON.stringify(e.name)}`);
    names.add(e.name);
  }
  const sorted = entries.filter((e) => e.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.byteLength) {
      throw new WeightFileError(
        `malformed header: tensors ${JSON.stringify(prev.name)} and ${JSON.stringify(sorted[i].name)} overlap in the data section`,
      );
    }
  }
}

/**
 * Validates a parsed header object against a data section of `dataLength` bytes and returns
 * its entries and metadata. Every problem is reported as a {@link WeightFileError}.
 */
export function validateHeader(
  header: unknown,
  dataLength: number,
): { entries: WeightHeaderEntry[]; meta: Record<string, unknown> } {
  if (!isPlainObject(header)) throw new WeightFileError('malformed header: expected a JSON object');
  if (!Array.isArray(header.tensors)) throw new WeightFileError('malformed header: "tensors" must be an array');
  const meta = header.meta === undefined ? {} : header.meta;
  if (!isPlainObject(meta)) throw new WeightFileError('malformed header: "meta" must be a JSON object');
  const entries = header.tensors.map((raw: unknown, i: number) => validateEntry(raw, i, dataLength));
  checkDisjoint(entries);
  return { entries, meta };
}
