// Node-only: rows of fixed-size records in a file, read with readSync in chunks kept in a bounded cache.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { fileError } from '../file-errors.ts';
import type { RowLayout, RowReader } from './rows.ts';

/** Default bytes a ChunkedRows keeps in memory: 64 MiB in chunks of 4 MiB. */
export const DEFAULT_CHUNK_BYTES = 4 << 20;
export const DEFAULT_CACHE_BYTES = 64 << 20;

/**
 * Rows of a file read with readSync in chunks of whole records, the most recently used chunks
 * kept up to a byte limit: a shuffled epoch over a file larger than memory reads each chunk
 * again when it needs it, and memory stays bounded whatever the file's size.
 */
export class ChunkedRows implements RowReader {
  readonly count: number;
  readonly width: number;
  private fd: number | undefined;
  private readonly rowsPerChunk: number;
  private readonly maxChunks: number;
  /** Chunk index -> bytes; Map order is recency (re-inserted on use). */
  private readonly cache = new Map<number, { bytes: Uint8Array; view: DataView }>();
  /** Bytes read from the file so far (a test and a curious user can see the chunking). */
  bytesRead = 0;

  constructor(
    readonly file: string,
    private readonly layout: RowLayout,
    limits: { chunkBytes?: number; cacheBytes?: number } = {},
  ) {
    this.count = layout.count;
    this.width = layout.width;
    this.rowsPerChunk = Math.max(1, Math.floor((limits.chunkBytes ?? DEFAULT_CHUNK_BYTES) / layout.stride));
    this.maxChunks = Math.max(1, Math.floor((limits.cacheBytes ?? DEFAULT_CACHE_BYTES) / (this.rowsPerChunk * layout.stride)));
    try {
      this.fd = openSync(file, 'r');
      const size = fstatSync(this.fd).size;
      const need = layout.offset + layout.count * layout.stride;
      if (size < need) throw new RangeError(`${file} holds ${size} bytes, its ${layout.count} records need ${need}`);
    } catch (e) {
      this.close();
      throw e instanceof RangeError ? e : fileError('read', file, e);
    }
  }

  /** Bytes held in the cache now. */
  get bytesHeld(): number {
    let n = 0;
    for (const c of this.cache.values()) n += c.bytes.byteLength;
    return n;
  }

  readRow(i: number, out: Float32Array | Int32Array, at: number): void {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`row ${i} of ${this.file} is out of range [0, ${this.count})`);
    const chunk = this.chunk(Math.floor(i / this.rowsPerChunk));
    const offset = (i % this.rowsPerChunk) * this.layout.stride + (this.layout.skip ?? 0);
    this.layout.element.decode(chunk.bytes, chunk.view, offset, out, at, this.width);
  }

  /** Closes the file (reads after this fail). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.cache.clear();
  }

  private chunk(c: number): { bytes: Uint8Array; view: DataView } {
    const hit = this.cache.get(c);
    if (hit) {
      this.cache.delete(c);
      this.cache.set(c, hit);
      return hit;
    }
    if (this.fd === undefined) throw new RangeError(`${this.file} is closed`);
    while (this.cache.size >= this.maxChunks) this.cache.delete(this.cache.keys().next().value as number);
    const rows = Math.min(this.rowsPerChunk, this.count - c * this.rowsPerChunk);
    const bytes = new Uint8Array(rows * this.layout.stride);
    const position = this.layout.offset + c * this.rowsPerChunk * this.layout.stride;
    let got = 0;
    try {
      while (got < bytes.length) {
        const n = readSync(this.fd, bytes, got, bytes.length - got, position + got);
        if (n === 0) throw new RangeError(`${this.file} ended at byte ${position + got}, expected ${position + bytes.length}`);
        got += n;
      }
    } catch (e) {
      throw e instanceof RangeError ? e : fileError('read', this.file, e);
    }
    this.bytesRead += got;
    const entry = { bytes, view: new DataView(bytes.buffer) };
    this.cache.set(c, entry);
    return entry;
  }
}

