// The protobuf wire format (https://protobuf.dev/programming-guides/encoding/): a reader that
// checks every length against the bytes it has, and a writer. Only what onnx.proto needs: varints
// (int32, int64, uint64, enums), fixed32 (float), fixed64 (double) and length-delimited records
// (string, bytes, messages, packed numbers). Errors are plain Errors; decodeMessage (proto.ts)
// turns them into OnnxFormatErrors.

export const WIRE = { VARINT: 0, FIXED64: 1, LEN: 2, START_GROUP: 3, END_GROUP: 4, FIXED32: 5 } as const;

const TWO_32 = 2 ** 32;
const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

export class Reader {
  pos = 0;
  /** The halves of the last varint read (unsigned 32-bit each). */
  lo = 0;
  hi = 0;
  private readonly view: DataView;

  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Throws unless `n` more bytes are there. */
  need(n: number): void {
    if (n > this.buf.length - this.pos) throw new Error(`index out of range: ${this.pos} + ${n} > ${this.buf.length}`);
  }

  /** Reads a varint of up to 10 bytes into lo and hi; more is corrupt, as is one cut off. */
  varint(): void {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) throw new Error(`index out of range: ${this.pos} + 1 > ${buf.length}`);
      const b = buf[this.pos++];
      if (i < 4) lo |= (b & 127) << (7 * i);
      else if (i === 4) {
        lo |= (b & 127) << 28;
        hi |= (b & 127) >>> 4;
      } else hi |= (b & 127) << (7 * i - 32);
      if (b < 128) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new Error(`invalid varint encoding at offset ${this.pos - 10}`);
  }

  /** A varint as an unsigned number (exact to 2^53, the nearest double beyond). */
  uint64(): number {
    this.varint();
    return this.hi * TWO_32 + this.lo;
  }

  /** A varint as a two's-complement signed 64-bit number: negative values take 10 bytes. */
  int64(): number {
    this.varint();
    return (this.hi | 0) * TWO_32 + this.lo;
  }

  /** int32 and enums: the low 32 bits, signed (a negative int32 is written as a 10-byte varint). */
  int32(): number {
    this.varint();
    return this.lo | 0;
  }

  /** A length prefix, checked against what is left. */
  length(): number {
    const n = this.uint64();
    this.need(n);
    return n;
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A view of the input, not a copy (as protobufjs gave for Uint8Array and Buffer input). */
  bytes(): Uint8Array {
    const n = this.length();
    this.pos += n;
    return this.buf.subarray(this.pos - n, this.pos);
  }

  /** UTF-8; malformed sequences become U+FFFD, as Node's Buffer decoding did for protobufjs. */
  string(): string {
    return utf8Decoder.decode(this.bytes());
  }

  /** Skips one value of an unknown field; groups (ONNX has none) are skipped with a counter, not recursion. */
  skip(wireType: number): void {
    if (wireType !== WIRE.START_GROUP) return this.skipValue(wireType);
    for (let depth = 1; depth > 0; ) {
      this.varint();
      const wt = this.lo & 7;
      if (wt === WIRE.START_GROUP) depth++;
      else if (wt === WIRE.END_GROUP) depth--;
      else this.skipValue(wt);
    }
  }

  private skipValue(wireType: number): void {
    switch (wireType) {
      case WIRE.VARINT:
        return this.varint();
      case WIRE.FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE.LEN: {
        const n = this.length(); // before reading pos: length() moves it past the prefix
        this.pos += n;
        return;
      }
      case WIRE.FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }
}

/** The halves of a 64-bit integer given as a number, or as a Long-like { low, high } (as protobufjs accepted). */
function int64Bits(v: unknown): [lo: number, hi: number] {
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) return [Number(v.low) >>> 0, Number(v.high) >>> 0];
  // protobufjs's LongBits.fromNumber: truncates toward zero, wraps modulo 2^64, NaN is 0.
  let n = Number(v);
  if (n === 0 || Number.isNaN(n)) return [0, 0];
  const negative = n < 0;
  if (negative) n = -n;
  let lo = n >>> 0;
  let hi = ((n - lo) / TWO_32) >>> 0;
  if (negative) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 0xffffffff) {
      lo = 0;
      if (++hi > 0xffffffff) hi = 0;
    }
  }
  return [lo, hi];
}

/** A growing buffer; sub-messages are written in place and their length prefix inserted after. */
export class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  varint(lo: number, hi: number): void {
    this.reserve(10);
    while (hi !== 0 || lo > 127) {
      this.buf[this.pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }

  uint32(v: number): void {
    this.varint(v >>> 0, 0);
  }

  tag(field: number, wireType: number): void {
    this.uint32(field * 8 + wireType);
  }

  /** int32 and enums: negative values sign-extended to 10 bytes, as protobuf (and protobufjs) write them. */
  int32(v: number): void {
    if (v < 0) this.varint(...int64Bits(v));
    else this.uint32(v);
  }

  /** int64 and uint64 alike: the two's-complement bits. */
  int64(v: unknown): void {
    this.varint(...int64Bits(v));
  }

  float(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  double(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Bytes as a Uint8Array or an array of byte values; a string is base64, as protobufjs took it. */
  bytes(v: ArrayLike<number> | string): void {
    const b = typeof v === 'string' ? Uint8Array.from(atob(v), (c) => c.charCodeAt(0)) : v;
    this.uint32(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(v: string): void {
    this.bytes(utf8Encoder.encode(v));
  }

  /** Starts a length-delimited record: one byte kept for its length, usually enough. */
  fork(): number {
    this.reserve(1);
    return ++this.pos;
  }

  /** Ends the record `fork` started: writes its length, moving the record if the length takes more than a byte. */
  ldelim(start: number): void {
    const length = this.pos - start;
    let size = 1;
    while (length >= 2 ** (7 * size)) size++;
    if (size > 1) {
      this.reserve(size - 1);
      this.buf.copyWithin(start + size - 1, start, this.pos);
      this.pos += size - 1;
    }
    const end = this.pos;
    this.pos = start - 1;
    this.uint32(length);
    this.pos = end;
  }

  /** The bytes written, as a Uint8Array of their exact length. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
