// One generic decoder, encoder, verifier and constructor for every message of schema.ts, with
// protobufjs's semantics (what Kiln was written against): decoded messages hold the fields that
// were present as own properties and read the others' defaults from a prototype (0, '', empty
// bytes, null for messages and oneof members); repeated fields are own arrays; encoding writes
// fields by number and skips those that are null or, for singular ones, not own properties.
import { ENUMS, SCHEMA, type EnumName, type FieldRow, type MessageName, type ScalarType } from './schema.ts';
import { Reader, WIRE, Writer } from './wire.ts';

/**
 * Messages nest at most this deep (a graph in an attribute of a node of a graph is 3 levels).
 * Protobuf's own C++ parser stops at 100 too, so every model ONNX Runtime loads fits; a file
 * nesting deeper is refused with an error rather than a stack overflow.
 */
export const MAX_DEPTH = 100;

type Kind = ScalarType | 'enum' | 'message';

interface Field {
  readonly no: number;
  readonly name: string;
  readonly kind: Kind;
  readonly label: FieldRow[3];
  /** The expected wire type of one value. */
  readonly wire: number;
  readonly message?: MessageType;
  readonly enumValues?: ReadonlySet<number>;
}

export interface MessageType {
  readonly name: MessageName;
  readonly fields: readonly Field[];
  readonly byNumber: ReadonlyMap<number, Field>;
  /** Defaults, the prototype of every decoded or created message. */
  readonly defaults: object;
}

type Obj = Record<string, unknown>;

const WIRE_OF: Record<Kind, number> = {
  string: WIRE.LEN, bytes: WIRE.LEN, message: WIRE.LEN, int32: WIRE.VARINT, enum: WIRE.VARINT,
  int64: WIRE.VARINT, uint64: WIRE.VARINT, float: WIRE.FIXED32, double: WIRE.FIXED64,
};

const EMPTY_BYTES = new Uint8Array(0);

function defaultOf(f: Field): unknown {
  if (f.label === 'many' || f.label === 'packed') return Object.freeze([]);
  if (f.label === 'oneof' || f.kind === 'message') return null;
  return f.kind === 'string' ? '' : f.kind === 'bytes' ? EMPTY_BYTES : 0;
}

/** Every message type, built once from the tables; message fields point at their types. */
export const TYPES: ReadonlyMap<MessageName, MessageType> = (() => {
  const types = new Map<MessageName, MessageType & { fields: Field[] }>();
  for (const name of Object.keys(SCHEMA) as MessageName[]) types.set(name, { name, fields: [], byNumber: new Map(), defaults: {} });
  for (const [name, type] of types) {
    for (const [no, fieldName, t, label] of SCHEMA[name] as readonly FieldRow[]) {
      const message = types.get(t as MessageName);
      const values = (ENUMS as Record<string, Record<string, number>>)[t];
      const kind: Kind = message ? 'message' : values ? 'enum' : (t as ScalarType);
      if (!(kind in WIRE_OF)) throw new Error(`internal: ${name}.${fieldName} has an unknown type ${t}`);
      const field: Field = { no, name: fieldName, kind, label, wire: WIRE_OF[kind], message, enumValues: values && new Set(Object.values(values)) };
      type.fields.push(field);
      (type.byNumber as Map<number, Field>).set(no, field);
      (type.defaults as Obj)[fieldName] = defaultOf(field);
    }
    type.fields.sort((a, b) => a.no - b.no);
  }
  return types;
})();

/** A message with its defaults behind it and an own, empty array per repeated field. */
function instantiate(type: MessageType): Obj {
  const m = Object.create(type.defaults) as Obj;
  for (const f of type.fields) if (f.label === 'many' || f.label === 'packed') m[f.name] = [];
  return m;
}

/** protobufjs's `create`: the defaults, then a shallow copy of the given properties that are not null. */
export function create(type: MessageType, properties?: object): Obj {
  const m = instantiate(type);
  if (properties) for (const [k, v] of Object.entries(properties)) if (v != null) m[k] = v;
  return m;
}

function readScalar(r: Reader, kind: Kind): unknown {
  switch (kind) {
    case 'string':
      return r.string();
    case 'bytes':
      return r.bytes();
    case 'int32':
    case 'enum':
      return r.int32();
    case 'int64':
      return r.int64();
    case 'uint64':
      return r.uint64();
    case 'float':
      return r.float();
    case 'double':
      return r.double();
    default:
      throw new Error(`internal: no scalar reader for ${kind}`);
  }
}

const tooDeep = (name: string) => new Error(`${name}: messages nested more than ${MAX_DEPTH} deep`);

/** Reads one message from r.pos to `end`. Unknown fields, and known ones with another wire type, are skipped. */
function decodeFrom(type: MessageType, r: Reader, end: number, depth: number): Obj {
  if (depth > MAX_DEPTH) throw tooDeep(type.name);
  const m = instantiate(type);
  while (r.pos < end) {
    r.varint();
    const wireType = r.lo & 7;
    const no = r.hi * 2 ** 29 + (r.lo >>> 3);
    if (no === 0) throw new Error(`invalid field number 0 at offset ${r.pos}`);
    const f = type.byNumber.get(no);
    if (f?.label === 'packed' && wireType === WIRE.LEN) {
      const stop = r.length() + r.pos;
      const list = m[f.name] as unknown[];
      while (r.pos < stop) list.push(readScalar(r, f.kind));
      if (r.pos !== stop) throw new Error(`${type.name}.${f.name}: a packed value overruns its record`);
    } else if (f && wireType === f.wire) {
      const value = f.kind === 'message' ? decodeFrom(f.message!, r, r.length() + r.pos, depth + 1) : readScalar(r, f.kind);
      if (f.label === 'many' || f.label === 'packed') (m[f.name] as unknown[]).push(value);
      else m[f.name] = value;
    } else r.skip(wireType);
  }
  if (r.pos !== end) throw new Error(`${type.name}: a field overruns the message (offset ${r.pos}, the message ends at ${end})`);
  return m;
}

export function decode(type: MessageType, bytes: Uint8Array): Obj {
  if (!(bytes instanceof Uint8Array)) throw new Error(`${type.name}: expected a Uint8Array`);
  return decodeFrom(type, new Reader(bytes), bytes.length, 0);
}

function writeScalar(w: Writer, kind: Kind, v: unknown): void {
  switch (kind) {
    case 'string':
      return w.string(String(v));
    case 'bytes':
      return w.bytes(v as ArrayLike<number> | string);
    case 'int32':
    case 'enum':
      return w.int32(Number(v));
    case 'int64':
    case 'uint64':
      return w.int64(v);
    case 'float':
      return w.float(Number(v));
    case 'double':
      return w.double(Number(v));
    default:
      throw new Error(`internal: no scalar writer for ${kind}`);
  }
}

function encodeInto(type: MessageType, m: Obj, w: Writer, depth: number): void {
  if (depth > MAX_DEPTH) throw tooDeep(type.name);
  for (const f of type.fields) {
    const v = m[f.name];
    if (f.label === 'many' || f.label === 'packed') {
      const list = v as ArrayLike<unknown> | null | undefined;
      if (list == null || !list.length) continue;
      if (f.label === 'packed') {
        w.tag(f.no, WIRE.LEN);
        const start = w.fork();
        for (let i = 0; i < list.length; i++) writeScalar(w, f.kind, list[i]);
        w.ldelim(start);
      } else for (let i = 0; i < list.length; i++) writeValue(w, f, list[i], depth);
    } else if (v != null && Object.hasOwn(m, f.name)) writeValue(w, f, v, depth);
  }
}

function writeValue(w: Writer, f: Field, v: unknown, depth: number): void {
  w.tag(f.no, f.wire);
  if (f.kind !== 'message') return writeScalar(w, f.kind, v);
  if (typeof v !== 'object' || v === null) throw new Error(`${f.name}: a ${f.message!.name} must be an object, got ${v}`);
  const start = w.fork();
  encodeInto(f.message!, v as Obj, w, depth + 1);
  w.ldelim(start);
}

/** protobufjs's `encode(m).finish()` in one call. */
export function encode(type: MessageType, m: object): Uint8Array {
  const w = new Writer();
  encodeInto(type, m as Obj, w, 0);
  return w.finish();
}

const isInteger = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
const isLong = (v: unknown) => typeof v === 'object' && v !== null && isInteger((v as Obj).low) && isInteger((v as Obj).high);

/** Why one value does not fit the field, protobufjs's words (without the field name), or null. */
function checkValue(f: Field, v: unknown, depth: number): string | null {
  switch (f.kind) {
    case 'message':
      return verifyAt(f.message!, v, depth + 1);
    case 'string':
      return typeof v === 'string' ? null : 'string expected';
    case 'bytes':
      return (v && typeof (v as { length?: unknown }).length === 'number') || typeof v === 'string' ? null : 'buffer expected';
    case 'enum':
      return f.enumValues!.has(v as number) ? null : 'enum value expected';
    case 'int32':
      return isInteger(v) ? null : 'integer expected';
    case 'int64':
    case 'uint64':
      return isInteger(v) || isLong(v) ? null : 'integer|Long expected';
    default:
      return typeof v === 'number' ? null : 'number expected';
  }
}

function verifyAt(type: MessageType, m: unknown, depth: number): string | null {
  if (typeof m !== 'object' || m === null) return 'object expected';
  if (depth > MAX_DEPTH) return `messages nested more than ${MAX_DEPTH} deep`;
  let oneofSet = false;
  for (const f of type.fields) {
    const v = (m as Obj)[f.name];
    if (v == null || !Object.hasOwn(m, f.name)) continue;
    if (f.label === 'oneof') {
      // Both oneofs of onnx.proto are called `value`.
      if (oneofSet) return 'value: multiple values';
      oneofSet = true;
    }
    if (f.label !== 'many' && f.label !== 'packed') {
      const why = checkValue(f, v, depth);
      if (why) return f.kind === 'message' ? `${f.name}.${why}` : `${f.name}: ${why}`;
      continue;
    }
    if (!Array.isArray(v)) return `${f.name}: array expected`;
    for (const x of v) {
      const why = checkValue(f, x, depth);
      if (why) return f.kind === 'message' ? `${f.name}.${why}` : `${f.name}: ${why.replace(/ expected$/, '[] expected')}`;
    }
  }
  return null;
}

/** protobufjs's `verify`: null when `m` can be encoded as the message, else the reason. */
export const verify = (type: MessageType, m: unknown): string | null => verifyAt(type, m, 0);

/** An enum's values typed as numbers (as protobufjs's TypeScript enums were), and its names by number. */
export type EnumObject<E extends EnumName> = { readonly [K in keyof (typeof ENUMS)[E]]: number } & Readonly<Record<number, string>>;

/** An enum as protobufjs built it: name → number, and number → name through the prototype. */
export function enumObject<E extends EnumName>(name: E): EnumObject<E> {
  const byNumber: Record<number, string> = {};
  for (const [k, v] of Object.entries(ENUMS[name])) byNumber[v] ??= k;
  return Object.freeze(Object.assign(Object.create(byNumber) as object, ENUMS[name])) as EnumObject<E>;
}
