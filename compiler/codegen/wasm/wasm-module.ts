// Assembles SIMD kernel functions (binary.ts's FunctionBody) into one WebAssembly module: it
// imports one shared memory (`env.memory`), exports one function per kernel, and carries the
// relaxed-SIMD variant and the scratch size in custom sections the runtime reads; a model's module also
// exports warm(), which runs its larger kernels on empty ranges so that V8 optimises them early.
import { RELAXED_SECTION, SCRATCH_SECTION, WARM_EXPORT } from '../../../runtime/simd.ts';
import { internal } from '../../../src/ir/errors.ts';
import { append, FunctionBody, I32, uleb } from './binary.ts';

export interface WasmFunction {
  readonly name: string;
  /** Every parameter is an i32 (sizes and byte addresses). */
  readonly params: number;
  readonly body: FunctionBody;
  /** The same function with relaxed-SIMD instructions (f32x4.relaxed_madd), where it has any. */
  readonly relaxed?: FunctionBody;
  /** Bytes of scratch memory it uses (packed panels) from the address in imported global 0, `env.scratch`. */
  readonly scratch?: number;
  /** The relaxed body's scratch, where it differs (it may pack where the plain body does not: simd-blocked.ts). */
  readonly relaxedScratch?: number;
}

function section(id: number, content: number[], out: number[]) {
  out.push(id);
  uleb(content.length, out);
  append(out, content);
}

function name(s: string, out: number[]) {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  out.push(...bytes);
}

/**
 * Calls of a kernel that its warm-up makes: this over the bytes of its body. V8 (Node 20, Chrome)
 * runs a function in its baseline compiler, Liftoff, until the function has spent a budget of
 * "bytes executed" (--wasm-tiering-budget, 1,800,000), then compiles it with TurboFan in the
 * background; an empty call spends the function's whole machine code (the branch to its end,
 * FunctionBody's emptyRange), and Liftoff writes at least 1.8 bytes of it per byte of wasm
 * (1.8 to 3.2 measured on Kiln's kernels): calls × 1.8 × bytes ≥ 2 × 1,800,000 gives twice the
 * budget. cifar-cnn's three kernels take about 5,300 calls, some 1 ms with their baseline compilation.
 */
const WARM_BUDGET = 2_000_000;

/**
 * `warm()`: calls each function of `names` (kernels: batch, lo, hi, out, inputs…) with an empty
 * row range, which runs and writes nothing, until V8 has spent its tier-up budget on it (WARM_BUDGET), so
 * that TurboFan compiles it on a background thread while createModel reads the weights and the
 * first prediction runs optimised code (cifar-cnn's first predict: 16-19 ms in Liftoff, 7-9 after).
 */
function warmFunction(functions: readonly WasmFunction[], names: readonly string[]): WasmFunction {
  const f = new FunctionBody(0);
  const calls = f.local(I32);
  for (const name of names) {
    const index = functions.findIndex((g) => g.name === name);
    if (index < 0) internal(`wasm: cannot warm ${name}: no such function`);
    const g = functions[index];
    const times = Math.ceil(WARM_BUDGET / g.body.encode().length);
    f.i32(0).set(calls);
    f.whileLess(calls, () => f.i32(times), () => {
      // batch 1, rows [0, 0), every address 0.
      f.i32(1);
      for (let p = 1; p < g.params; p++) f.i32(0);
      f.call(index).get(calls).i32(1).op('i32.add').set(calls);
    });
  }
  return { name: WARM_EXPORT, params: 0, body: f };
}

/** Largest memory a module may use, in 64 KiB pages (2 GiB); a shared memory must declare one. */
export const MAX_PAGES = 32768;

/**
 * A module of `functions`, importing a shared memory `env.memory` (and an i32 global
 * `env.scratch` where some function needs scratch memory), exporting each function by name. When
 * some function has a relaxed body, the module carries a second module with those bodies in a
 * custom section, which engines ignore and the runtime compiles where relaxed SIMD validates.
 * Kernels named in `warm` are warmed up by an exported `warm()` (warmFunction), in both variants.
 */
export function encodeModule(kernels: readonly WasmFunction[], warm: readonly string[] = []): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const withWarm = (fs: readonly WasmFunction[]) => (warm.length ? [...fs, warmFunction(fs, warm)] : fs);
  const functions = withWarm(kernels);
  const scratch = Math.max(0, ...functions.map((f) => f.scratch ?? 0));
  if (functions.some((f) => f.relaxed)) {
    const content: number[] = [];
    name(RELAXED_SECTION, content);
    const relaxedScratch = Math.max(0, ...functions.map((f) => (f.relaxed ? (f.relaxedScratch ?? 0) : (f.scratch ?? 0))));
    append(content, moduleBody(withWarm(kernels.map((f) => ({ ...f, body: f.relaxed ?? f.body }))), relaxedScratch));
    section(0, content, out);
  }
  const body = moduleBody(functions, scratch);
  for (let i = 8; i < body.length; i++) out.push(body[i]);
  return new Uint8Array(out);
}

/** The module's bytes (header included), with the scratch size but not the relaxed variant. */
function moduleBody(functions: readonly WasmFunction[], scratch: number): number[] {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (scratch) {
    const content: number[] = [];
    name(SCRATCH_SECTION, content);
    uleb(scratch, content);
    section(0, content, out);
  }
  const arities = [...new Set(functions.map((f) => f.params))];
  const types: number[] = [];
  uleb(arities.length, types);
  for (const n of arities) {
    types.push(0x60);
    uleb(n, types);
    for (let i = 0; i < n; i++) types.push(I32);
    types.push(0x00);
  }
  section(1, types, out);
  const imports: number[] = [scratch ? 2 : 1];
  name('env', imports);
  name('memory', imports);
  imports.push(0x02, 0x03); // memory; limits: shared, with a maximum
  uleb(1, imports);
  uleb(MAX_PAGES, imports);
  if (scratch) {
    name('env', imports);
    name('scratch', imports);
    imports.push(0x03, I32, 0x00); // an immutable i32 global
  }
  section(2, imports, out);
  const funcs: number[] = [];
  uleb(functions.length, funcs);
  for (const f of functions) uleb(arities.indexOf(f.params), funcs);
  section(3, funcs, out);
  const exports: number[] = [];
  uleb(functions.length, exports);
  functions.forEach((f, i) => {
    name(f.name, exports);
    exports.push(0x00);
    uleb(i, exports);
  });
  section(7, exports, out);
  const code: number[] = [];
  uleb(functions.length, code);
  for (const f of functions) append(code, f.body.encode());
  section(10, code, out);
  return out;
}
