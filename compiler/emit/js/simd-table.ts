// The WebAssembly SIMD half of a JS-backend module: the kernels that are contractions
// (compiler/codegen/wasm) as an embedded wasm module per entry point (the model's, the trainer's,
// so that inference alone carries no training kernel), and the tables that put them in place of
// their JavaScript versions. The JavaScript kernels stay in the module: they are the readable
// definition, and what runs where WebAssembly SIMD or shared memory is missing.
import type { ModuleText } from '../writer.ts';
import { ARRAY_NAME } from '../../../src/ir/dtype.ts';
import { BATCH } from '../../../src/ir/shape.ts';
import { commentSafe } from '../../codegen/names.ts';
import { inputName } from '../../codegen/js.ts';
import { encodeModule } from '../../codegen/wasm/wasm-module.ts';
import { renderJsKernel, workAtBatch1 } from '../../codegen/js-kernel.ts';
import { prepackOf, renderSimdKernel } from '../../codegen/wasm/simd-kernel.ts';
import { MIN_ROWS, type Prepack } from '../../codegen/wasm/simd-blocked.ts';
import { ROWS } from '../../codegen/wasm/simd-writer.ts';
import { describeOps, type Kernel } from '../../lower/kernel.ts';
import { baseOf } from '../../lower/plan.ts';
import type { Node } from '../../../src/ir/node.ts';
import { groupNames, type KernelGroup } from './pool.ts';

/** A kernel with its SIMD version. */
export type SimdVersion = readonly [Kernel, NonNullable<ReturnType<typeof renderSimdKernel>>];

/**
 * The kernels of `kernels` that have a SIMD version, with it. `singleRows`: products over the batch
 * get `<name>_rows` for calls of fewer than 4 rows (the inference model's, which predicts one row
 * at a time; a trainer's steps take batches).
 */
export function simdVersions(kernels: readonly Kernel[], singleRows: boolean): SimdVersion[] {
  return kernels.map((k) => [k, renderSimdKernel(k, null, singleRows)] as const).filter((e): e is SimdVersion => e[1] !== null);
}

/** A model kernel that reads W, a parameter, from a copy packed once per weight set; `packs`: whether its pack function makes the copy (the first kernel of those sharing one). */
export interface ModelPrepack {
  readonly kernel: Kernel;
  readonly prepack: Prepack;
  readonly param: Node;
  readonly packs: boolean;
}

/**
 * The model's kernels that read a parameter W from its packed copy (simd-blocked.ts's Prepack):
 * the inference Model's weights change only between calls, so W is packed once per weight set.
 * Kernels that read one parameter share its copy when they read it alike; a kernel that reads it
 * otherwise (another slice of it) packs per call as before. Asked once, by modelSimdVersions, whose
 * answer feeds both the emitted table and createModel (model.ts).
 */
function modelPrepacks(kernels: readonly Kernel[]): ModelPrepack[] {
  const claimed = new Map<Node, string>();
  const found: ModelPrepack[] = [];
  for (const k of kernels) {
    const param = (i: number) => (baseOf(k.reads[i]).op === 'param' ? baseOf(k.reads[i]) : null);
    const prepack = prepackOf(k, (i) => {
      const p = param(i);
      return p && p.type.shape.reduce<number>((a, d) => a * Number(d), 1);
    });
    if (!prepack) continue;
    const p = param(prepack.input)!;
    // The copy's contents: its layout and how the kernel addresses W.
    const key = JSON.stringify({ ...prepack, input: 0 });
    const earlier = claimed.get(p);
    if (earlier !== undefined && earlier !== key) continue;
    claimed.set(p, key);
    found.push({ kernel: k, prepack, param: p, packs: earlier === undefined });
  }
  return found;
}

/**
 * The inference Model's SIMD versions as its createModel runs them: its products over a parameter
 * (modelPrepacks) rendered to read the copy of W packed once per weight set, the rest as
 * simdVersions renders them. What the emitted module holds and `kiln ir --stage wasm` lists.
 */
export function modelSimdVersions(kernels: readonly Kernel[]): { versions: SimdVersion[]; prepacks: ModelPrepack[] } {
  const plain = simdVersions(kernels, true);
  const prepacks = modelPrepacks(plain.map(([k]) => k));
  const versions = plain.map(([k, s]): SimdVersion => {
    const m = prepacks.find((x) => x.kernel === k);
    return m ? [k, renderSimdKernel(k, m.prepack, true)!] : [k, s];
  });
  return { versions, prepacks };
}

/** Each kernel's SIMD version as the inference Model runs it (modelSimdVersions), or null where it has none: for listings (`kiln ir`, `kiln inspect`). */
export function modelSimdLookup(kernels: readonly Kernel[]): (k: Kernel) => SimdVersion[1] | null {
  const versions = new Map(modelSimdVersions(kernels).versions);
  return (k) => versions.get(k) ?? null;
}

/**
 * Multiply-adds at batch 1 from which a model kernel is warmed up (wasm-module.ts's warm()), as
 * its first call in V8's baseline compiler (Liftoff) weighs against a TurboFan job beside the read
 * of the weights. A product over the batch runs its single rows slowly there (cnn's dense_1, 0.7 M
 * multiply-adds: 5.5 ms against 1.5 warmed): from 2^18. A convolution's loops run well enough in
 * Liftoff (cnn2's conv2d_2, 2.2 M: no faster warmed) while its job took createModel 3.3 ms longer
 * where page faults are dear (docs/speed.md, Start-up; lenet's conv2, 0.3 M: 2.7-4.6 ms sooner
 * unwarmed): from 2^22 (cifar-cnn's conv2d_2, 19 M, is warmed).
 */
const WARM_WORK = { rows: 2 ** 18, other: 2 ** 22 };

/** The model's kernels worth warming up: the batch-1 path (a product's single rows, else the kernel) of the larger ones. */
const warmNames = (rendered: readonly SimdVersion[]) =>
  rendered.filter(([k, s]) => workAtBatch1(k) >= (s.rows ? WARM_WORK.rows : WARM_WORK.other)).map(([k, s]) => s.rows?.name ?? k.name);

/** The wasm function a call takes: a product's single rows below ROWS rows, its blocked path from MIN_ROWS, else the kernel. */
function dispatch(k: Kernel, s: SimdVersion[1]): string {
  const rows = s.rows ? `hi - lo < ${ROWS} ? e.${s.rows.name} : ` : '';
  const blocked = s.blocked ? `hi - lo >= ${MIN_ROWS} ? e.${s.blocked.name} : ` : '';
  return rows || blocked ? `(${rows}${blocked}e.${k.name})` : `e.${k.name}`;
}

/**
 * Adds a group's SIMD binary and table (`simdWasm` and `simdKernels` for the model) when some of
 * its kernels have a SIMD version, or `always` (a model whose trainer has some opens the memory
 * they share); returns the names of the kernels that have one.
 */
export function addSimdTable(f: ModuleText, group: KernelGroup['name'], rendered: readonly SimdVersion[], always = false): ReadonlySet<string> {
  if (!rendered.length && !always) return new Set();
  const n = groupNames(group);
  // A trainer's first step is not warmed: training runs many steps, and its kernels tier up in the first few.
  const warm = group === 'model' ? warmNames(rendered) : [];
  const bytes = encodeModule(rendered.flatMap(([, s]) => [s.fn, ...[s.rows, s.blocked, s.pack].filter((g) => g !== undefined)]), warm);
  f.addVariableStatement({
    docs: [`WebAssembly SIMD versions of ${rendered.length} contraction kernels (${rendered.map(([k]) => k.name).join(', ') || 'none: it only opens the memory'}), ${bytes.length} bytes.${warm.length ? ` Its warm() runs ${warm.join(', ')} on empty row ranges when it is opened, so that V8 compiles them optimised while the weights are read.` : ''}`],
    // Pure: a bundler may drop it when nothing that uses it is imported.
    declarations: [{ name: n.wasm, initializer: `/* @__PURE__ */ fromBase64('${Buffer.from(bytes).toString('base64')}')` }],
  });
  // Epilogues the vector code lacks run as JavaScript over the stored sums, in place.
  const epilogues = rendered.flatMap(([, s]) => (s.epilogue ? [renderJsKernel(s.epilogue)] : []));
  if (epilogues.length) f.addStatements(['// Epilogues of SIMD kernels (functions WebAssembly SIMD lacks), applied in place to their sums.', ...epilogues]);
  let slot = 0;
  const entries = rendered.map(([k, s]) => {
    const arrays = [`out: ${ARRAY_NAME[k.dtype]}`, ...k.inputs.map((t, i) => `${inputName(i)}: ${ARRAY_NAME[t.dtype]}`)];
    // A scalar output (a row kernel's loss, simd-rows.ts) is one call over everything: [0, 1).
    const hi = k.shape.length === 0 ? '1' : k.shape[0] === BATCH ? 'batch' : String(k.shape[0]);
    const names = k.inputs.map((_, i) => inputName(i));
    const args = ['out', ...names].map((a) => `a(${a}, ${slot++})`);
    const call = `${dispatch(k, s)}(batch, lo, hi, ${args.join(', ')})`;
    const body = s.epilogue ? `{\n${call};\n${s.epilogue.name}(batch, out, ${[...names, 'out'].join(', ')}, lo, hi);\n}` : call;
    return [`/** ${k.name}: ${commentSafe(describeOps(k))}. ${s.how}${s.epilogue ? ` Then ${s.epilogue.name}.` : ''} */`, `${k.name}: (batch: number, ${arrays.join(', ')}, lo = 0, hi = ${hi}): void => ${body},`].join('\n');
  });
  f.addFunction({
    name: n.simd,
    docs: ['The SIMD kernels over one memory: each takes the arguments of its JavaScript version and passes byte addresses.'],
    parameters: [{ name: 's', type: 'SimdKernels' }],
    statements: [`const e = s.exports;`, `const a = s.address;`, `return {\n${entries.join('\n')}\n};`],
  });
  return new Set(rendered.map(([k]) => k.name));
}

/** `workerKernels`: a worker's table, every kernel with the SIMD versions of the groups that have them. */
export function addWorkerKernels(f: ModuleText, groups: readonly KernelGroup['name'][]) {
  f.addFunction({
    name: 'workerKernels',
    isExported: true,
    docs: ["The kernel table of a ThreadPool's worker thread, over the memory the main thread's model allocated in."],
    parameters: [{ name: 'memory', type: 'WebAssembly.Memory' }],
    returnType: 'Readonly<Record<string, (...args: never[]) => void>>',
    statements: [`return { ...kernels${groups.map((g) => `, ...${groupNames(g).simd}(workerSimd(${groupNames(g).wasm}, memory))`).join('')} };`],
  });
}
