// Browser-safe parser for the big-endian IDX tensor format used by the MNIST data files.

/** Typed arrays an IDX file can decode to, by type code. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file: its dimensions and its elements in row-major order. */
export type IdxTensor = { dims: number[]; data: IdxData };

/** Raised when bytes are not a well-formed IDX file. */
export class IdxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdxFormatError';
  }
}

/** Element type description for one IDX type code. */
type IdxType = { name: string; size: number; read: (view: DataView, offset: number) => number; make: (n: number) => IdxData };

const IDX_TYPES: ReadonlyMap<number, IdxType> = new Map<number, IdxType>([
  [0x08, { name: 'ubyte', size: 1, read: (v, o) => v.getUint8(o), make: (n) => new Uint8Array(n) }],
  [0x09, { name: 'byte', size: 1, read: (v, o) => v.getInt8(o), make: (n) => new Int8Array(n) }],
  [0x0b, { name: 'short', size: 2, read: (v, o) => v.getInt16(o, false), make: (n) => new Int16Array(n) }],
  [0x0c, { name: 'int', size: 4, read: (v, o) => v.getInt32(o, false), make: (n) => new Int32Array(n) }],
  [0x0d, { name: 'float', size: 4, read: (v, o) => v.getFloat32(o, false), make: (n) => new Float32Array(n) }],
  [0x0e, { name: 'double', size: 8, read: (v, o) => v.getFloat64(o, false), make: (n) => new Float64Array(n) }],
]);

/** Formats a byte as `0x` plus two hex digits. */
function hex8(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** Reads the magic number and dimensions; returns the element type, dims and data offset. */
function readHeader(bytes: Uint8Array, view: DataView): { type: IdxType; dims: number[]; dataOffset: number } {
  if (bytes.length < 4) {
    throw new IdxFormatError(`truncated IDX file: expected at least 4 header bytes, got ${bytes.length}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxFormatError(
      `bad IDX magic: the first two bytes must be 0x00 0x00, got ${hex8(bytes[0])} ${hex8(bytes[1])}`,
    );
  }
  const type = IDX_TYPES.get(bytes[2]);
  if (type === undefined) throw new IdxFormatError(`unknown IDX type code ${hex8(bytes[2])}`);
  const ndims = bytes[3];
  const dataOffset = 4 + 4 * ndims;
  if (bytes.length < dataOffset) {
    throw new IdxFormatError(
      `truncated IDX header: ${ndims} dimensions need ${dataOffset} bytes, got ${bytes.length}`,
    );
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  return { type, dims, dataOffset };
}

/**
 * Parses an IDX file (magic `00 00 type ndims`, big-endian uint32 dims, big-endian data).
 * Type codes: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double.
 * The returned data is a fresh array in host byte order.
 * @throws IdxFormatError on a bad magic, unknown type code, or a data length that does not
 *   match the dimensions (the message gives expected and actual byte counts).
 */
export function parseIdx(input: Uint8Array): IdxTensor {
  // A plain view, so that `slice` below copies even when given a Node Buffer.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { type, dims, dataOffset } = readHeader(bytes, view);
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = count * type.size;
  const actual = bytes.length - dataOffset;
  if (actual < expected) {
    throw new IdxFormatError(
      `truncated IDX data: dims [${dims.join(', ')}] of ${type.name} need ${expected} bytes, got ${actual}`,
    );
  }
  if (actual > expected) {
    throw new IdxFormatError(
      `IDX data too long: dims [${dims.join(', ')}] of ${type.name} need ${expected} bytes, got ${actual}`,
    );
  }
  if (type.name === 'ubyte') {
    return { dims, data: bytes.slice(dataOffset) };
  }
  const data = type.make(count);
  for (let i = 0; i < count; i++) data[i] = type.read(view, dataOffset + i * type.size);
  return { dims, data };
}
