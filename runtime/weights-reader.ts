// Weight files read in place: given a file's path, a model reads each tensor from the file into the
// array it allocated for it (in its WebAssembly memory), checksumming the bytes as they go by
// (through the checksum's 64 KiB window), instead of reading the whole file into a fresh buffer
// and copying it on. Touching fresh memory (page faults) is most of what loading megabytes of
// weights costs (bench/startup.md), and this touches half as much. Browser-safe: the file system
// comes from whoever installs an opener (node-host.ts, under Node); elsewhere a path is refused in
// one line.
import type { Checksum } from './checksum.ts';
import {
  LITTLE_ENDIAN_HOST,
  PREAMBLE_BYTES,
  TRAILER_BYTES,
  WeightFileError,
  align,
  checksumError,
  parseHeaderJson,
  readPreamble,
  swapBytes,
} from './weights.ts';
import { ITEM_SIZE, validateHeader, type WeightHeaderEntry } from './weights-header.ts';

/** An open file: its length, and synchronous reads at a position. */
export interface WeightsReader {
  readonly byteLength: number;
  /** True when the bytes already lie in the program's memory (a reader over bytes): reading is a copy. */
  readonly inMemory?: boolean;
  /** Fills `into` with the file's bytes from `position` on; throws if the file ends first. */
  read(into: Uint8Array, position: number): void;
  close(): void;
}

/** Opens the file at `path` (the Node entry installs one over node:fs). */
export type WeightsOpener = (path: string) => WeightsReader;

let opener: WeightsOpener | undefined;

/** Makes paths readable as weight files (index-node.ts installs node:fs's). */
export function useWeightsOpener(fn: WeightsOpener | undefined): void {
  opener = fn;
}

/** Opens a weight file by path, or says in one line why a path cannot be read here. */
export function openWeights(path: string): WeightsReader {
  if (!opener) {
    throw new WeightFileError(
      `cannot read weight file ${JSON.stringify(path)}: a path is read only under Node 20.16 or later; ` +
        'elsewhere pass the file\'s bytes (e.g. new Uint8Array(await (await fetch(url)).arrayBuffer()))',
    );
  }
  return opener(path);
}

/**
 * Where each tensor of a checked header goes: for entry i, the bytes to read it into (exactly its
 * byteLength), or undefined to skip it (it is still checksummed). May throw (names, shapes, the
 * file's model): the checksum is then checked first, so that a corrupt file says so.
 */
export type TensorPlacer = (entries: readonly WeightHeaderEntry[], meta: Record<string, unknown>) => (Uint8Array | undefined)[];

/** Reads are at most this long into the scratch buffer (the bytes of tensors skipped, and gaps). */
const SCRATCH_BYTES = 1 << 20;

/**
 * A reusable buffer of at least `min(bytes, SCRATCH_BYTES)` bytes, grown on demand: most files
 * skip nothing but the few bytes of padding between tensors, and fresh memory costs page faults.
 */
function scratchBuffer(): (bytes: number) => Uint8Array {
  let buffer = new Uint8Array(0);
  return (bytes) => {
    const want = Math.min(bytes, SCRATCH_BYTES);
    if (buffer.length < want) buffer = new Uint8Array(Math.max(want, Math.min(SCRATCH_BYTES, 2 * buffer.length)));
    return buffer;
  };
}

/** The checksum's buffer when `reader` reads a file (bytes already in memory are copied straight to their arrays). */
const fileWindow = (reader: WeightsReader, checksum: Checksum) => (reader.inMemory ? undefined : checksum.buffer?.());

/**
 * Reads `into` from the file at `position` and adds it to `checksum`. Given the checksum's buffer
 * (`fileWindow`: XXH32's 64 KiB window, for a file), through it piece by piece: read there,
 * checksummed where it lies, copied on. A fresh page that the kernel fills in read() costs its
 * page fault and then, at the program's first touch of it (the checksum's), several µs more on a
 * machine where faults are dear; one filled by a copy costs its fault only (docs/speed.md,
 * Start-up: reading and checking cifar-cnn's 34 MB, 171 → 127 ms there). Without a buffer
 * (bytes already in memory), copied straight to `into` and checksummed there.
 */
function readChecksummed(reader: WeightsReader, into: Uint8Array, position: number, checksum: Checksum, window: Uint8Array | undefined): void {
  if (!window) {
    reader.read(into, position);
    checksum.update(into);
    return;
  }
  for (let at = 0; at < into.length; at += window.length) {
    const part = window.subarray(0, Math.min(window.length, into.length - at));
    reader.read(part, position + at);
    checksum.update(part);
    into.set(part, at);
  }
}

/** Adds the file's bytes [from, to) to `checksum`, read through `scratch`. */
function checksumRange(reader: WeightsReader, from: number, to: number, checksum: Checksum, scratch: (bytes: number) => Uint8Array): void {
  for (let at = from; at < to; ) {
    const buffer = scratch(to - at);
    const part = buffer.subarray(0, Math.min(buffer.length, to - at));
    reader.read(part, at);
    checksum.update(part);
    at += part.length;
  }
}

/** The checksum stored in the file's last four bytes. */
function storedChecksum(reader: WeightsReader): number {
  const trailer = new Uint8Array(TRAILER_BYTES);
  reader.read(trailer, reader.byteLength - TRAILER_BYTES);
  return new DataView(trailer.buffer).getUint32(0, true);
}

/**
 * Reads a weight file through `reader`, checked as decodeWeights checks one, with the same errors
 * in the same order (size, magic and version; then the checksum; then the header; then whatever
 * `place` refuses), every tensor `place` wants read into the bytes it gives (readChecksummed).
 * Nothing `place` was given may be used when this throws: the checksum is verified after the reads.
 * @throws WeightFileError for a malformed, truncated or corrupt file; what `place` throws.
 */
export function readWeightsInPlace(reader: WeightsReader, place: TensorPlacer): void {
  const length = reader.byteLength;
  const head = new Uint8Array(Math.min(length, PREAMBLE_BYTES));
  reader.read(head, 0);
  // Every byte before the trailer is checksummed, in pieces, by the checksum of the file's version.
  const { headerLength, checksum } = readPreamble(head, length);
  const dataStart = align(PREAMBLE_BYTES + headerLength);
  // Preamble, header and its padding: checksummed as one piece.
  const front = new Uint8Array(dataStart);
  front.set(head);
  reader.read(front.subarray(PREAMBLE_BYTES), PREAMBLE_BYTES);
  const headerRaw = front.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength);
  checksum.update(front);
  const end = length - TRAILER_BYTES;
  // Tensors, gaps and skipped tensors of a file go through the checksum's buffer (readChecksummed).
  const window = fileWindow(reader, checksum);
  const scratch = window ? () => window : scratchBuffer();
  let entries: WeightHeaderEntry[];
  let targets: (Uint8Array | undefined)[];
  try {
    const header = validateHeader(parseHeaderJson(headerRaw), end - dataStart);
    entries = header.entries;
    targets = place(entries, header.meta);
  } catch (err) {
    // decodeWeights checks the checksum before the header: a corrupt file is reported as corrupt.
    checksumRange(reader, dataStart, end, checksum, scratch);
    const [actual, stored] = [checksum.digest(), storedChecksum(reader)];
    if (actual !== stored) throw checksumError(stored, actual, headerRaw, dataStart, length);
    throw err;
  }
  // The data section in file order (validateHeader refused overlaps): gaps and skipped tensors
  // through the scratch buffer, wanted tensors into their arrays (readChecksummed).
  const order = entries.map((_, i) => i).sort((a, b) => entries[a].offset - entries[b].offset);
  let at = dataStart;
  for (const i of order) {
    const start = dataStart + entries[i].offset;
    const into = targets[i];
    checksumRange(reader, at, start, checksum, scratch);
    if (into) {
      readChecksummed(reader, into, start, checksum, window);
    } else {
      checksumRange(reader, start, start + entries[i].byteLength, checksum, scratch);
    }
    at = start + entries[i].byteLength;
  }
  checksumRange(reader, at, end, checksum, scratch);
  const [actual, stored] = [checksum.digest(), storedChecksum(reader)];
  if (actual !== stored) throw checksumError(stored, actual, headerRaw, dataStart, length);
  if (!LITTLE_ENDIAN_HOST) targets.forEach((into, i) => into && swapBytes(into, ITEM_SIZE[entries[i].dtype]));
}

/** Runs `body`, a WeightFileError's message then prefixed with `path` (as readWeightsFile's are). */
export function namingPath<T>(path: string, body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (err instanceof WeightFileError && !err.message.startsWith(`${path}: `)) throw new WeightFileError(`${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Opens `path`, runs `body` on it (its WeightFileErrors then name the path) and closes it. */
export function withWeightsFile<T>(path: string, body: (reader: WeightsReader) => T): T {
  const reader = openWeights(path);
  try {
    return namingPath(path, () => body(reader));
  } finally {
    reader.close();
  }
}

/**
 * A file's bytes already in memory (createModel(bytes): a browser's fetch, a test's buffer) read as
 * an open file is: each read is a copy. readWeightsInPlace then copies each tensor straight into
 * its array and checksums it there (in a model's WebAssembly memory, in place) instead of
 * checksumming the whole buffer through a window first and copying after.
 */
export function bytesReader(source: Uint8Array | ArrayBuffer): WeightsReader {
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  return {
    byteLength: bytes.length,
    inMemory: true,
    read(into, position) {
      if (position + into.length > bytes.length) throw new WeightFileError(`file is truncated: ${into.length} bytes at byte ${position} of ${bytes.length}`);
      into.set(bytes.subarray(position, position + into.length));
    },
    close() {},
  };
}

/** All of an open file, in a fresh buffer. */
export function readAll(reader: WeightsReader): Uint8Array {
  const bytes = new Uint8Array(reader.byteLength);
  reader.read(bytes, 0);
  return bytes;
}

/** The whole file at `path`, in a fresh buffer (a trainer peeking at a file it may resume from). */
export function readWeightsBytes(path: string): Uint8Array {
  return withWeightsFile(path, readAll);
}
