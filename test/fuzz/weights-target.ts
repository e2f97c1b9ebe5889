// The weight-file fuzzer: createModel on mutated weight files must throw a clear error or load exactly what the file holds.
import fc from 'fast-check';
import { HOSTILE_INTS, HOSTILE_NAMES, pick } from './hostile.ts';
import { classifyThrow, failed, type Outcome } from './oracle.ts';
import { compiledExamples } from './seeds.ts';
import type { Target } from './targets.ts';
import { trailerReference } from '../runtime/checksum-reference.ts';

const KINDS = ['flip', 'truncate', 'insert', 'header', 'data', 'preamble'] as const;
interface Edit {
  kind: (typeof KINDS)[number];
  a: number;
  b: number;
  c: number;
}
export interface WeightsMutant {
  model: number;
  edits: Edit[];
}

// An independent reading of the format (magic, version, header length, JSON header, 8-aligned data, a trailer of
// the version's checksum: CRC-32 in 1, XXH32 in 2), written from the format's description rather than taken from
// runtime/weights.ts.
const MAGIC = [0x4b, 0x49, 0x4c, 0x4e, 0x57, 0x54, 0x53, 0x00];
const align8 = (n: number) => Math.ceil(n / 8) * 8;

interface Parts {
  version: number;
  header: string;
  data: Uint8Array;
}

function split(file: Uint8Array): Parts {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLength = view.getUint32(12, true);
  const dataStart = align8(16 + headerLength);
  return { version: view.getUint32(8, true), header: new TextDecoder().decode(file.subarray(16, 16 + headerLength)), data: file.slice(dataStart, file.length - 4) };
}

/** A well-formed file (correct lengths, padding and checksum) around whatever header text and data it is given. */
function join(p: Parts, headerLengthDelta = 0): Uint8Array {
  const header = new TextEncoder().encode(p.header);
  const dataStart = align8(16 + header.length);
  const out = new Uint8Array(dataStart + p.data.length + 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, p.version >>> 0, true);
  view.setUint32(12, (header.length + headerLengthDelta) >>> 0, true);
  out.set(header, 16);
  out.set(p.data, dataStart);
  view.setUint32(out.length - 4, trailerReference(p.version, out.subarray(0, out.length - 4)) ?? 0, true);
  return out;
}

const DTYPES = ['float32', 'float64', 'int32', 'float16', '__proto__', 'constructor', '', 7];

/** One edit of the parsed header: names, shapes, dtypes, offsets, lengths, entries, meta, prototype keys. */
function editHeader(h: Record<string, unknown>, { a, b, c }: Edit): void {
  const tensors = Array.isArray(h.tensors) ? (h.tensors as Record<string, unknown>[]) : [];
  const t = tensors.length ? pick(tensors, a) : undefined;
  const value = pick(HOSTILE_INTS, c);
  switch (b % 12) {
    case 0:
      if (t) t.name = c % 3 === 0 && tensors.length > 1 ? pick(tensors, c).name : pick(HOSTILE_NAMES, c);
      return;
    case 1:
      if (t && Array.isArray(t.shape)) t.shape.length ? (t.shape[c % t.shape.length] = value) : t.shape.push(value);
      return;
    case 2:
      if (t) t.shape = c % 2 ? [...(t.shape as number[]), 1] : (t.shape as number[]).slice(1);
      return;
    case 3:
      if (t) t.dtype = pick(DTYPES, c);
      return;
    case 4:
      if (t) t.offset = pick([...HOSTILE_INTS, 8, 4, 1.5, '0', null], c);
      return;
    case 5:
      if (t) t.byteLength = pick([...HOSTILE_INTS, 4, 1.5, null], c);
      return;
    case 6:
      if (tensors.length) tensors.splice(a % tensors.length, 1);
      return;
    case 7:
      if (t) tensors.push({ ...t, name: c % 2 ? t.name : `${String(t.name)}_extra` });
      return;
    case 8:
      if (tensors.length > 1) [tensors[0].offset, tensors[1].offset] = [tensors[1].offset, tensors[0].offset];
      return;
    case 9:
      h.meta = pick([{ model: 'another_model' }, { graphHash: '0'.repeat(64) }, null, [], 'x', JSON.parse('{"__proto__": {"x": 1}}')], c);
      return;
    case 10:
      Object.defineProperty(h, pick(['__proto__', 'constructor', 'toString'], c), { value: { tensors: [] }, enumerable: true });
      return;
    default:
      h.tensors = pick([{}, null, 'tensors', [[]], [null]], c);
  }
}

/** The edited file; an edit that cannot apply to what earlier edits left (no header to parse) leaves it as it is. */
function mutate(file: Uint8Array, e: Edit): Uint8Array {
  try {
    return mutateOnce(file, e);
  } catch {
    return file;
  }
}

function mutateOnce(file: Uint8Array, e: Edit): Uint8Array {
  const at = e.a % file.length;
  switch (e.kind) {
    case 'flip': {
      const copy = file.slice();
      copy[at] ^= 1 << (e.b % 8);
      return copy;
    }
    case 'truncate':
      return file.slice(0, at);
    case 'insert': {
      const out = new Uint8Array(file.length + 1 + (e.b % 8));
      out.set(file.subarray(0, at));
      out.set(file.subarray(at), at + 1 + (e.b % 8));
      return out;
    }
    case 'header': {
      const p = split(file);
      const h = JSON.parse(p.header) as Record<string, unknown>;
      editHeader(h, e);
      return join({ ...p, header: JSON.stringify(h) });
    }
    case 'data': {
      const p = split(file);
      if (p.data.length === 0) return file;
      const view = new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
      view.setFloat32(4 * ((e.a % p.data.length) >> 2), pick([NaN, Infinity, -0, 1e30, 3.5], e.c), true);
      return join(p);
    }
    default: {
      const p = split(file);
      return e.b % 2 ? join({ ...p, version: pick([0, 1, 3, 2 ** 32 - 1], e.c) }) : join(p, pick([1, -1, 8, 1 << 30, -16], e.c));
    }
  }
}

type Expected = { ok: false; why: string } | { ok: true; arrays: Map<string, Float32Array> };

/**
 * What a correct loader must do with `file` for a model with `params`: reject it (why), or load these arrays.
 * Lenient where the format leaves room (8-alignment, overlap, meta): the fuzzer only fails a loader for
 * accepting a broken file, loading the wrong numbers, or rejecting the intact file.
 */
function expected(file: Uint8Array, params: readonly { name: string; shape: number[] }[]): Expected {
  const bad = (why: string): Expected => ({ ok: false, why });
  if (file.length < 20 || MAGIC.some((m, i) => file[i] !== m)) return bad('too short or bad magic');
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = view.getUint32(8, true);
  if (version !== 1 && version !== 2) return bad('version');
  const headerLength = view.getUint32(12, true);
  const dataStart = align8(16 + headerLength);
  if (dataStart + 4 > file.length) return bad('header past the end');
  if (view.getUint32(file.length - 4, true) !== trailerReference(version, file.subarray(0, file.length - 4))) return bad('checksum');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(16, 16 + headerLength)));
  } catch {
    return bad('header JSON');
  }
  const tensors = (header as { tensors?: unknown })?.tensors;
  if (!Array.isArray(tensors) || tensors.length !== params.length) return bad('tensor count');
  const dataLength = file.length - 4 - dataStart;
  const arrays = new Map<string, Float32Array>();
  for (const raw of tensors) {
    const t = raw as Record<string, unknown>;
    const p = params.find((q) => q.name === t?.name);
    if (!p || arrays.has(p.name)) return bad(`unknown or repeated tensor ${String(t?.name)}`);
    const count = p.shape.reduce((x, d) => x * d, 1);
    if (t.dtype !== 'float32' || !Array.isArray(t.shape) || JSON.stringify(t.shape) !== JSON.stringify(p.shape)) return bad(`dtype or shape of ${p.name}`);
    if (t.byteLength !== count * 4 || typeof t.offset !== 'number' || !Number.isInteger(t.offset) || t.offset < 0 || t.offset + count * 4 > dataLength) return bad(`extent of ${p.name}`);
    const bytes = file.slice(dataStart + t.offset, dataStart + t.offset + count * 4);
    arrays.set(p.name, new Float32Array(bytes.buffer));
  }
  return { ok: true, arrays };
}

const sameBits = (x: Float32Array, y: Float32Array) => x.length === y.length && new Uint32Array(x.buffer, x.byteOffset, x.length).every((v, i) => v === new Uint32Array(y.buffer, y.byteOffset, y.length)[i]);

interface Loaded {
  createModel(weights?: unknown): { getWeights(): { name: string; data: Float32Array }[] };
}

export async function weightsTarget(): Promise<Target<WeightsMutant>> {
  const examples = await compiledExamples();
  const modules: Loaded[] = [];
  for (const e of examples) modules.push((await import(/* @vite-ignore */ `data:text/javascript;base64,${Buffer.from(e.js).toString('base64')}`)) as Loaded);
  const apply = (m: WeightsMutant) => m.edits.reduce((f, e) => (f.length ? mutate(f, e) : f), examples[m.model].weights);
  const run = async (m: WeightsMutant): Promise<Outcome> => {
    const file = apply(m);
    const { parameters, weights: original } = examples[m.model];
    const want = expected(file, parameters);
    let got: { name: string; data: Float32Array }[];
    try {
      got = modules[m.model].createModel(file).getWeights();
    } catch (e) {
      const o = classifyThrow('createModel', e);
      const intact = file.length === original.length && file.every((v, i) => v === original[i]);
      if (o.kind === 'error' && intact) return failed('createModel', 'rejects the intact weight file', o.message);
      return o;
    }
    if (!want.ok) return failed('createModel', 'accepts a broken weight file', `the file is broken (${want.why}) but createModel loaded it`);
    for (const t of got) {
      const w = want.arrays.get(t.name);
      if (!w || !sameBits(t.data, w)) return failed('createModel', 'loads different weights than the file holds', `parameter '${t.name}'`);
    }
    return { kind: 'matched', detail: 'loaded exactly the file' };
  };
  const editArb = fc.record({ kind: fc.constantFrom(...KINDS), a: fc.nat(1 << 24), b: fc.nat(1 << 20), c: fc.nat(1 << 20) });
  return {
    name: 'weights',
    arbitrary: fc.record({ model: fc.nat(examples.length - 1), edits: fc.array(editArb, { minLength: 1, maxLength: 3 }) }),
    run,
    artifact: (m) => ({ data: apply(m), ext: 'weights.bin' }),
  };
}
