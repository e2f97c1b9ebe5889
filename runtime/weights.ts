// Browser-safe encoder/decoder/checker for Kiln's checksummed binary weight-file format.
//
// Layout (all integers little-endian):
//   [0, 8)      magic "KILNWTS\0"
//   [8, 12)     uint32 format version (2; version 1 files are read too)
//   [12, 16)    uint32 header byte length H
//   [16, 16+H)  UTF-8 JSON header {"tensors":[{name,dtype,shape,offset,byteLength}], "meta":{...}}
//   zero padding up to the next multiple of 8 = start of the data section
//   data section: each tensor at an 8-byte-aligned offset (relative to the section start)
//   trailing uint32 checksum of every preceding byte: XXH32 (seed 0) in version 2, CRC-32 (IEEE)
//   in version 1 (checksum.ts)

import { CHECKSUMS, checksumOf, type Checksum } from './checksum.ts';
import {
  ITEM_SIZE,
  WeightFileError,
  formatShape,
  isPlainObject,
  isWeightDType,
  shapeSize,
  validateHeader,
} from './weights-header.ts';
import type { WeightData, WeightDType, WeightHeaderEntry, WeightTensor, WeightTensorSpec } from './weights-header.ts';

export { WeightFileError, formatShape };
export type { WeightData, WeightDType, WeightHeaderEntry, WeightTensor, WeightTensorSpec };

/** The 8 magic bytes that open every weight file ("KILNWTS" followed by a NUL). */
export const WEIGHTS_MAGIC: Uint8Array = new Uint8Array([0x4b, 0x49, 0x4c, 0x4e, 0x57, 0x54, 0x53, 0x00]);

/** The format version written by {@link encodeWeights}; {@link decodeWeights} also reads version 1 (checksum.ts). */
export const WEIGHTS_FORMAT_VERSION = 2;

/** Bytes before the header (magic, version, header length), and after the data section (the checksum). */
export const PREAMBLE_BYTES = 16;
export const TRAILER_BYTES = 4;
const ALIGN = 8;
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const ARRAY_TYPES = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

/** Rounds `n` up to a multiple of 8. */
export function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** Formats a checksum as `0x` followed by 8 hex digits. */
function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Reverses the byte order of every `itemSize`-byte element of `bytes` in place. */
export function swapBytes(bytes: Uint8Array, itemSize: number): void {
  for (let i = 0; i + itemSize <= bytes.length; i += itemSize) bytes.subarray(i, i + itemSize).reverse();
}

/** Little-endian bytes of a typed array (a view on little-endian hosts, a swapped copy otherwise). */
function littleEndianBytes(data: WeightData): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST) return view;
  const copy = view.slice();
  swapBytes(copy, data.BYTES_PER_ELEMENT);
  return copy;
}

/** Throws a WeightFileError unless tensor `index` is well-formed and its data length matches its shape. */
function checkTensorForEncode(t: WeightTensor, index: number): void {
  const where = `cannot encode tensor #${index}${typeof t?.name === 'string' ? ` (${JSON.stringify(t.name)})` : ''}`;
  if (!isPlainObject(t)) throw new WeightFileError(`${where}: not a tensor object`);
  if (typeof t.name !== 'string' || t.name.length === 0) throw new WeightFileError(`${where}: name must be a non-empty string`);
  if (!isWeightDType(t.dtype)) throw new WeightFileError(`${where}: unknown dtype ${JSON.stringify(t.dtype)}`);
  if (!(t.data instanceof ARRAY_TYPES[t.dtype])) {
    throw new WeightFileError(`${where}: dtype ${t.dtype} needs a ${ARRAY_TYPES[t.dtype].name}`);
  }
  const count = shapeSize(t.shape);
  if (typeof count === 'string') throw new WeightFileError(`${where}: ${count}`);
  if (t.data.length !== count) {
    throw new WeightFileError(
      `${where}: data has ${t.data.length} elements but shape ${formatShape(t.shape)} needs ${count}`,
    );
  }
}

/** Assigns 8-byte-aligned data-section offsets; returns the entries and the section length. */
function layout(tensors: readonly WeightTensor[]): { entries: WeightHeaderEntry[]; dataLength: number } {
  const names = new Set<string>();
  let cursor = 0;
  const entries = tensors.map((t, i) => {
    checkTensorForEncode(t, i);
    if (names.has(t.name)) throw new WeightFileError(`cannot encode: duplicate tensor name ${JSON.stringify(t.name)}`);
    names.add(t.name);
    const entry = { name: t.name, dtype: t.dtype, shape: t.shape.slice(), offset: cursor, byteLength: t.data.byteLength };
    cursor = align(cursor + entry.byteLength);
    return entry;
  });
  return { entries, dataLength: cursor };
}

/** Serialises the header JSON, reporting unserialisable metadata as a WeightFileError. */
function headerBytes(entries: WeightHeaderEntry[], meta: Record<string, unknown>): Uint8Array {
  if (!isPlainObject(meta)) throw new WeightFileError('cannot encode: meta must be a plain JSON object');
  let json: string;
  try {
    json = JSON.stringify({ tensors: entries, meta });
  } catch (err) {
    throw new WeightFileError(`cannot encode: meta is not JSON-serialisable (${(err as Error).message})`, { cause: err });
  }
  return new TextEncoder().encode(json);
}

/**
 * Encodes tensors and optional JSON metadata into a weight file.
 * @throws WeightFileError if a tensor's data length disagrees with its shape, its typed array
 *   does not match its dtype, names repeat, or `meta` cannot be serialised to JSON.
 */
export function encodeWeights(tensors: readonly WeightTensor[], meta: Record<string, unknown> = {}): Uint8Array {
  const { entries, dataLength } = layout(tensors);
  const header = headerBytes(entries, meta);
  const dataStart = align(PREAMBLE_BYTES + header.length);
  const total = dataStart + dataLength + TRAILER_BYTES;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(WEIGHTS_MAGIC, 0);
  view.setUint32(8, WEIGHTS_FORMAT_VERSION, true);
  view.setUint32(12, header.length, true);
  out.set(header, PREAMBLE_BYTES);
  tensors.forEach((t, i) => out.set(littleEndianBytes(t.data), dataStart + entries[i].offset));
  view.setUint32(total - TRAILER_BYTES, checksumOf(WEIGHTS_FORMAT_VERSION, out.subarray(0, total - TRAILER_BYTES)), true);
  return out;
}

/**
 * Normalises the decoder's input to a plain Uint8Array view (not a subclass such as Node's
 * Buffer, whose `slice` shares memory instead of copying).
 */
function asBytes(input: Uint8Array | ArrayBuffer): Uint8Array {
  if (input instanceof Uint8Array) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  throw new WeightFileError('weight file must be given as a Uint8Array or ArrayBuffer');
}

/**
 * Checks size, magic, version and header length of a file of `length` bytes from its first
 * bytes `head` (at least 16 unless the file is shorter); returns the header length and a fresh
 * checksum of the file's version, for the bytes before the trailer.
 */
export function readPreamble(head: Uint8Array, length: number): { headerLength: number; checksum: Checksum } {
  const minimum = PREAMBLE_BYTES + TRAILER_BYTES;
  if (length < minimum) {
    throw new WeightFileError(`file too short: ${length} bytes, a weight file has at least ${minimum}`);
  }
  if (!WEIGHTS_MAGIC.every((b, i) => head[i] === b)) {
    throw new WeightFileError('bad magic: not a Kiln weight file (expected it to start with "KILNWTS\\0")');
  }
  const view = new DataView(head.buffer, head.byteOffset, PREAMBLE_BYTES);
  const version = view.getUint32(8, true);
  const checksum = CHECKSUMS[version];
  if (!checksum) throw new WeightFileError(`unsupported format version ${version} (this runtime reads versions 1 to ${WEIGHTS_FORMAT_VERSION})`);
  const headerLength = view.getUint32(12, true);
  if (align(PREAMBLE_BYTES + headerLength) + TRAILER_BYTES > length) {
    throw new WeightFileError(
      `header length ${headerLength} extends beyond the end of the ${length}-byte file (truncated or corrupt)`,
    );
  }
  return { headerLength, checksum: checksum(length - TRAILER_BYTES) };
}

/** Decodes the header bytes `raw` as UTF-8 JSON. */
export function parseHeaderJson(raw: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (err) {
    throw new WeightFileError(`invalid JSON header: ${(err as Error).message}`, { cause: err });
  }
}

/** Best-effort explanation of a checksum failure caused by truncation of a `length`-byte file; never throws. */
function truncationHint(headerRaw: Uint8Array, dataStart: number, length: number): string | null {
  try {
    const header = parseHeaderJson(headerRaw);
    const list = isPlainObject(header) && Array.isArray(header.tensors) ? header.tensors : [];
    let needed = 0;
    for (const t of list) {
      if (isPlainObject(t) && typeof t.offset === 'number' && typeof t.byteLength === 'number') {
        needed = Math.max(needed, t.offset + t.byteLength);
      }
    }
    const expected = dataStart + needed + TRAILER_BYTES;
    if (Number.isFinite(expected) && expected > length) {
      return `file is truncated or corrupt: its header describes at least ${expected} bytes but the file has ${length}`;
    }
  } catch {
    // Not diagnosable; the plain checksum message will do.
  }
  return null;
}

/**
 * The error for a stored CRC `stored` that is not the `actual` one of a `length`-byte file whose
 * header bytes are `headerRaw`: a truncation when the header says so, else a plain mismatch.
 */
export function checksumError(stored: number, actual: number, headerRaw: Uint8Array, dataStart: number, length: number): WeightFileError {
  const mismatch = `checksum mismatch: file is corrupt (expected ${hex32(stored)}, got ${hex32(actual)})`;
  const hint = truncationHint(headerRaw, dataStart, length);
  return new WeightFileError(hint === null ? mismatch : `${hint} (${mismatch})`);
}

/** Throws a WeightFileError if the trailing checksum does not match the file contents. */
function verifyChecksum(bytes: Uint8Array, view: DataView, checksum: Checksum, headerRaw: Uint8Array, dataStart: number): void {
  const end = bytes.length - TRAILER_BYTES;
  const stored = view.getUint32(end, true);
  checksum.update(bytes.subarray(0, end));
  const actual = checksum.digest();
  if (stored !== actual) throw checksumError(stored, actual, headerRaw, dataStart, bytes.length);
}

/** One tensor of the data section: a fresh, aligned copy in the host's byte order. */
function extractTensor(bytes: Uint8Array, dataStart: number, e: WeightHeaderEntry): WeightTensor {
  const start = dataStart + e.offset;
  const copy = bytes.slice(start, start + e.byteLength);
  if (!LITTLE_ENDIAN_HOST) swapBytes(copy, ITEM_SIZE[e.dtype]);
  return { name: e.name, dtype: e.dtype, shape: e.shape, data: new ARRAY_TYPES[e.dtype](copy.buffer, 0, e.byteLength / ITEM_SIZE[e.dtype]) };
}

/**
 * Decodes and fully validates a weight file (preamble, checksum, header). Tensor data is copied
 * into new typed arrays. (A model reads a file's tensors straight into its own arrays instead:
 * readWeightsInPlace, weights-reader.ts, with the same checks in the same order.)
 * @throws WeightFileError (and nothing else) for any malformed, truncated or corrupt input.
 */
export function decodeWeights(input: Uint8Array | ArrayBuffer): { tensors: WeightTensor[]; meta: Record<string, unknown> } {
  const bytes = asBytes(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { headerLength, checksum } = readPreamble(bytes, bytes.length);
  const dataStart = align(PREAMBLE_BYTES + headerLength);
  const headerRaw = bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength);
  verifyChecksum(bytes, view, checksum, headerRaw, dataStart);
  const header = parseHeaderJson(headerRaw);
  const dataLength = bytes.length - TRAILER_BYTES - dataStart;
  const { entries, meta } = validateHeader(header, dataLength);
  return { tensors: entries.map((e) => extractTensor(bytes, dataStart, e)), meta };
}

/**
 * Checks loaded tensors against what a model expects.
 * @throws WeightFileError on one line: duplicate tensors and dtype or shape mismatches first
 *   (shapes shown like `[784, 64]`), then missing and unexpected tensors, the first six in all.
 */
export function checkWeights(expected: readonly WeightTensorSpec[], tensors: readonly WeightTensor[]): void {
  const actual = new Map<string, WeightTensor>();
  const mismatched: string[] = [];
  const missing: string[] = [];
  const unexpected: string[] = [];
  for (const t of tensors) {
    if (actual.has(t.name)) mismatched.push(`duplicate tensor ${JSON.stringify(t.name)}`);
    actual.set(t.name, t);
  }
  const wanted = new Set<string>();
  for (const spec of expected) {
    wanted.add(spec.name);
    const t = actual.get(spec.name);
    const name = JSON.stringify(spec.name);
    if (t === undefined) {
      missing.push(`missing tensor ${name} (expected ${spec.dtype} ${formatShape(spec.shape)})`);
      continue;
    }
    if (t.dtype !== spec.dtype) mismatched.push(`tensor ${name}: expected dtype ${spec.dtype}, got ${t.dtype}`);
    const sameShape = t.shape.length === spec.shape.length && t.shape.every((d, i) => d === spec.shape[i]);
    if (!sameShape) {
      mismatched.push(`tensor ${name}: expected shape ${formatShape(spec.shape)}, got ${formatShape(t.shape)}`);
    }
  }
  for (const t of actual.values()) {
    if (!wanted.has(t.name)) unexpected.push(`unexpected tensor ${JSON.stringify(t.name)} (${t.dtype} ${formatShape(t.shape)})`);
  }
  const problems = [...mismatched, ...missing, ...unexpected];
  if (problems.length > 0) {
    const shown = 6;
    const more = problems.length > shown ? `; and ${problems.length - shown} more` : '';
    throw new WeightFileError(`weights do not match the model: ${problems.slice(0, shown).join('; ')}${more}`);
  }
}
