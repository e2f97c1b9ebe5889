// What every emitted module does at its boundary: check arrays handed in, and resolve weights.
import { initialize, type InitSpec } from './init.ts';
import { Rng } from './rng.ts';
import { checkWeights, WeightFileError, type WeightTensor } from './weights.ts';
import type { WeightHeaderEntry } from './weights-header.ts';
import { checkWeightsIdentity, weightsRequired, type ModelIdentity } from './weights-identity.ts';
import { bytesReader, readAll, readWeightsInPlace, withWeightsFile, type WeightsReader } from './weights-reader.ts';

export type Dim = number | 'N';

/**
 * A model input, output or parameter as the emitted module describes it. `string`: an ONNX string
 * tensor, handed over as an array of strings (the model interns them to int32 ids inside).
 */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: 'float32' | 'float64' | 'int32' | 'string';
  readonly shape: readonly Dim[];
}

export interface ParameterInfo extends TensorInfo {
  readonly dtype: 'float32' | 'float64' | 'int32';
  readonly init: InitSpec;
  readonly trainable: boolean;
}

/**
 * Weights as a user may hand them over: a weight file's bytes, its path (read straight into the
 * model's memory; Node only), or arrays by parameter name.
 */
export type WeightsSource = Uint8Array | ArrayBuffer | string | Readonly<Record<string, Float32Array>>;

const ARRAY_TYPES = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

function describe(info: TensorInfo, batch: number): string {
  const shape = info.shape.map((d) => (d === 'N' ? batch : d));
  return `${info.dtype} [${shape.join(', ')}] (${shape.reduce((p, d) => p * d, 1)} values)`;
}

const typeName = (x: unknown) => (x === null || typeof x !== 'object' ? typeof x : (x.constructor?.name ?? 'object'));

/** Throws unless `array` is an array of strings, every element a string. */
function checkStrings(info: TensorInfo, array: unknown, expected: string): asserts array is readonly string[] {
  if (!Array.isArray(array)) throw new TypeError(`input '${info.name}': expected an array of strings of ${expected}, got ${typeName(array)}`);
  const bad = array.findIndex((s) => typeof s !== 'string');
  if (bad >= 0) throw new TypeError(`input '${info.name}': expected an array of strings of ${expected}, element ${bad} is ${typeName(array[bad])}`);
}

/** Throws unless `array` is a typed array of `info`'s dtype (an array of strings for `string`) holding exactly `batch` samples. */
export function checkInput(info: TensorInfo, array: unknown, batch: number): void {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  const expected = describe(info, batch);
  if (info.dtype === 'string') checkStrings(info, array, expected);
  else if (!(array instanceof ARRAY_TYPES[info.dtype])) {
    throw new TypeError(`input '${info.name}': expected a ${ARRAY_TYPES[info.dtype].name} of ${expected}, got ${typeName(array)}`);
  }
  const want = info.shape.reduce<number>((p, d) => p * (d === 'N' ? batch : d), 1);
  if (array.length !== want) {
    throw new RangeError(`input '${info.name}': expected ${expected}, got ${array.length} values`);
  }
}

/**
 * The array fed for input `name`: an own property of `feeds` only, so an input named
 * "constructor" or "toString" that the caller left out is reported missing, not read from
 * Object.prototype.
 */
export function feed<T>(feeds: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(feeds, name) ? feeds[name] : undefined;
}

/**
 * Throws unless every value of `indices` (an input the model gathers with) lies in [-size, size):
 * ONNX makes any other index an error, and the kernels would read the wrong element. One pass
 * over the input, after `checkInput`.
 */
export function checkIndices(info: TensorInfo, indices: ArrayLike<number>, size: number): void {
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (!(v >= -size && v < size)) {
      throw new RangeError(`input '${info.name}': index ${v} at element ${i} is out of range: the axis it indexes has ${size} entries, so indices must lie in [${-size}, ${size - 1}]`);
    }
  }
}

/** Fresh weights from each parameter's initialiser, drawn in order from one seeded stream. */
export function initWeights(params: readonly ParameterInfo[], seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return params.map((p) => initialize(p.init, size(p), rng));
}

const size = (p: TensorInfo) => p.shape.reduce<number>((a, d) => a * (d === 'N' ? 1 : d), 1);

/** Where a model allocates its arrays: plain memory, a WebAssembly memory, a thread pool's shared memory. */
export type ArrayAlloc = <T extends typeof Float32Array | typeof Float64Array | typeof Int32Array>(Type: T, length: number) => InstanceType<T>;

/**
 * Elements a model reserves after each parameter's values, by parameter index: room for a packed
 * copy of it beside it, which its SIMD kernels find at a fixed offset from its address
 * (compiler/codegen/wasm/simd-blocked.ts's Prepack). Absent: none.
 */
export type ParamRoom = readonly number[];

/** Parameter `i`'s array from `alloc`: its values, as a view of an allocation `room[i]` elements longer. */
function paramArray(params: readonly ParameterInfo[], i: number, alloc: ArrayAlloc, room: ParamRoom): Float32Array {
  const [n, extra] = [size(params[i]), room[i] ?? 0];
  const a = alloc(ARRAY_TYPES[params[i].dtype], n + extra) as unknown as Float32Array;
  return extra ? a.subarray(0, n) : a;
}

/** A copy of `data` in parameter `i`'s array from `alloc` (the one copy a weight makes on its way into a model). */
function placed(params: readonly ParameterInfo[], i: number, data: Float32Array, alloc: ArrayAlloc, room: ParamRoom): Float32Array {
  const a = paramArray(params, i, alloc, room);
  a.set(data);
  return a;
}

/** A trainer's save() also holds its optimizer state: a model takes the weights and leaves the rest. */
function wantedTensors<T extends { name: string }>(params: readonly ParameterInfo[], tensors: T[], meta: Record<string, unknown>): T[] {
  const wanted = new Set(params.map((p) => p.name));
  return typeof meta.steps === 'number' ? tensors.filter((t) => wanted.has(t.name)) : tensors;
}

/** Names and shapes first (their mismatch says the most about what is wrong), then the file's model. */
function checkFile(params: readonly ParameterInfo[], tensors: readonly Pick<WeightTensor, 'name' | 'dtype' | 'shape'>[], meta: Record<string, unknown>, model: ModelIdentity | undefined, allowForeign: boolean): void {
  checkWeights(params.map(({ name, dtype, shape }) => ({ name, dtype, shape: shape as number[] })), tensors as WeightTensor[]);
  if (model && !allowForeign) checkWeightsIdentity(meta, model);
}

/**
 * Below this size a weight file given by path is read whole, then taken as bytes are: the page faults
 * the in-place read saves (a few microseconds per 4 KiB page) are then fewer than the cold calls
 * it makes, one read per tensor (interleaved fresh processes: 0.5-1 ms more for 0.1-0.8 MB files,
 * 1.4 ms less at 2.7 MB, 22 ms less at 34 MB).
 */
const READ_WHOLE_BELOW = 1 << 20;

/**
 * The weight file at `path`: read whole and taken as bytes are when small, else read
 * (readWeightsInPlace) straight into arrays from `alloc`, no buffer holding the whole file.
 */
function readInto(params: readonly ParameterInfo[], path: string, model: ModelIdentity | undefined, allowForeign: boolean, alloc: ArrayAlloc, room: ParamRoom): Float32Array[] {
  return withWeightsFile(path, (reader) =>
    reader.byteLength < READ_WHOLE_BELOW ? fromBytes(params, readAll(reader), model, allowForeign, alloc, room) : readInPlace(params, reader, model, allowForeign, alloc, room),
  );
}

/** A weight file's bytes, read (readInPlace) as an open file: each tensor copied once into an array from `alloc`. */
function fromBytes(params: readonly ParameterInfo[], source: Uint8Array | ArrayBuffer, model: ModelIdentity | undefined, allowForeign: boolean, alloc: ArrayAlloc, room: ParamRoom): Float32Array[] {
  return readInPlace(params, bytesReader(source), model, allowForeign, alloc, room);
}

/**
 * An open weight file read (readWeightsInPlace) straight into arrays from `alloc`, checked as a
 * file's bytes are. Exported for tests, which read small files this way too.
 */
export function readInPlace(params: readonly ParameterInfo[], reader: WeightsReader, model: ModelIdentity | undefined, allowForeign: boolean, alloc: ArrayAlloc = allocArray, room: ParamRoom = []): Float32Array[] {
  let arrays: Float32Array[] = [];
  readWeightsInPlace(reader, (entries: readonly WeightHeaderEntry[], meta) => {
    const tensors = wantedTensors(params, [...entries], meta);
    checkFile(params, tensors, meta, model, allowForeign);
    arrays = params.map((_, i) => paramArray(params, i, alloc, room));
    const at = new Map(params.map((p, i) => [p.name, arrays[i]]));
    return entries.map((e) => {
      const a = at.get(e.name);
      return a && new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    });
  });
  return arrays;
}

/**
 * Resolves a weights source into one array per parameter, checking names, shapes and lengths;
 * with `model`, also that a weight file belongs to that model (see checkWeightsIdentity) unless
 * `allowForeign`, and that weights are given when no initialiser can make them. Each array comes
 * from `alloc` (a model's memory) and is the model's own: a weight file's data is copied straight
 * from its bytes into it, once (read into it from the file, for a path), and nothing the caller
 * holds is written later. `room`: elements reserved after each parameter's values (ParamRoom).
 */
export function resolveWeights(params: readonly ParameterInfo[], source: WeightsSource | undefined, seed: number, model?: ModelIdentity, allowForeign = false, alloc: ArrayAlloc = allocArray, room: ParamRoom = []): Float32Array[] {
  if (source === undefined) {
    if (model?.weightsFrom !== undefined && params.length > 0) throw weightsRequired({ ...model, weightsFrom: model.weightsFrom });
    const fresh = initWeights(params, seed);
    return alloc === allocArray && !room.length ? fresh : fresh.map((a, i) => placed(params, i, a, alloc, room));
  }
  if (typeof source === 'string') return readInto(params, source, model, allowForeign, alloc, room);
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return fromBytes(params, source, model, allowForeign, alloc, room);
  return params.map((p, i) => {
    const data = feed(source, p.name);
    if (!(data instanceof Float32Array)) throw new WeightFileError(`missing weights for parameter '${p.name}' (a Float32Array of ${size(p)} values)`);
    if (data.length !== size(p)) throw new WeightFileError(`parameter '${p.name}': expected [${p.shape.join(', ')}] (${size(p)} values), got ${data.length}`);
    // A copy: the model owns its weights (training must not write into the caller's arrays).
    return placed(params, i, data, alloc, room);
  });
}

/** The current weights as tensors for `encodeWeights`, copied so later training cannot change them. */
export function snapshotWeights(params: readonly ParameterInfo[], arrays: readonly Float32Array[]): WeightTensor[] {
  return params.map((p, i) => ({ name: p.name, dtype: 'float32', shape: p.shape as number[], data: arrays[i].slice() }));
}

/** The engines' native base64 decoders, where present (Uint8Array.fromBase64: ES2026; Buffer: Node). */
type NativeBase64 = { fromBase64?: (text: string) => Uint8Array };
type NodeBuffer = { from(text: string, encoding: 'base64'): Uint8Array };

/**
 * Decodes base64 (a module's WebAssembly kernels, weights inlined into it), browser-safe. Natively
 * where the engine can: a module decodes its kernels as it is imported, and a loop over 100 KB of
 * characters runs there once, in V8's interpreter, for milliseconds.
 */
export function fromBase64(text: string): Uint8Array {
  const native = Uint8Array as unknown as NativeBase64;
  if (typeof native.fromBase64 === 'function') return native.fromBase64(text);
  const buffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;
  if (buffer) {
    const b = buffer.from(text, 'base64');
    // A small Buffer is a slice of a shared pool: copied, so the bytes returned are alone in theirs.
    return b.byteOffset === 0 && b.buffer.byteLength === b.length ? new Uint8Array(b.buffer, 0, b.length) : new Uint8Array(b);
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** A zeroed typed array (emitted modules allocate through this or a thread pool's `alloc`). */
export function allocArray<T extends typeof Float32Array | typeof Float64Array | typeof Int32Array>(Type: T, length: number): InstanceType<T> {
  return new Type(length) as InstanceType<T>;
}
