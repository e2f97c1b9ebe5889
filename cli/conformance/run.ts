// The ONNX conformance runner: each case folder (model.onnx + test_data_set_0/{input,output}_N.pb)
// is imported, compiled with a backend, run, and compared with ONNX's tolerance.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureFolderSync, writeFileAtomicSync } from '../../runtime/atomic-write.ts';
import { UnsupportedError } from '../../src/ir/errors.ts';
import { decodeModel, importModel } from '../../src/onnx/import.ts';
import { decodeMessage, onnx } from '../../src/onnx/proto.ts';
import { decodeStrings, STRING, type StringTensor } from '../../src/onnx/strings.ts';
import { decodeTensor, toKilnArray, type TensorValue } from '../../src/onnx/tensor.ts';
import { compileModel } from '../../compiler/compile.ts';

export const RTOL = 1e-3;
export const ATOL = 1e-7;

export type Backend = 'js' | 'gpujs';
export const BACKENDS: readonly Backend[] = ['js', 'gpujs'];

export type CaseStatus = 'pass' | 'fail' | 'unsupported';

export interface CaseResult {
  readonly name: string;
  readonly status: CaseStatus;
  /** Why it failed or is unsupported. */
  readonly detail?: string;
}

export interface ConformanceOptions {
  backend?: Backend;
  /** With the gpujs backend: the GPU.js backend to demand (default webasm: float32, like a GPU). */
  gpu?: string;
  /** Where emitted modules go: `<outDir>/<case>/model.js` (must lie inside this package so `kiln/runtime` resolves). */
  outDir?: string;
  /** Only these case names (default: every case folder). */
  only?: readonly string[];
  /** Called with each result as it is known. */
  onResult?: (r: CaseResult) => void;
}

/** The repository root: emitted modules are written below it so that `kiln/runtime` resolves. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One result line, as the CLI prints it. */
export function formatResult(r: CaseResult): string {
  if (r.status === 'pass') return `PASS ${r.name}`;
  return `${r.status === 'fail' ? 'FAIL' : 'UNSUPPORTED'} ${r.name} (${r.detail ?? ''})`;
}

export function formatSummary(results: readonly CaseResult[]): string {
  const count = (s: CaseStatus) => results.filter((r) => r.status === s).length;
  return `${count('pass')} passed, ${count('fail')} failed, ${count('unsupported')} unsupported`;
}

/** Case folders of a directory laid out like the ONNX backend node tests, sorted by name. */
export function listCases(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'model.onnx')))
    .map((e) => e.name)
    .sort();
}

/** A test-data tensor: numbers, or strings (which the emitted module takes and returns as such). */
type CaseTensor = TensorValue | StringTensor;
const isStrings = (t: CaseTensor): t is StringTensor => 'strings' in t;

function readNumbered(dataDir: string, prefix: string): CaseTensor[] {
  const out: CaseTensor[] = [];
  for (let i = 0; existsSync(path.join(dataDir, `${prefix}_${i}.pb`)); i++) {
    const what = `${prefix}_${i}.pb`;
    const t = decodeMessage(what, readFileSync(path.join(dataDir, what)), (b) => onnx.TensorProto.decode(b));
    out.push(t.dataType === STRING ? decodeStrings(t, what) : decodeTensor(t, what));
  }
  return out;
}

const close = (g: number, e: number) => {
  if (Number.isNaN(e) || Number.isNaN(g)) return Number.isNaN(e) && Number.isNaN(g);
  if (!Number.isFinite(e) || !Number.isFinite(g)) return g === e;
  return Math.abs(g - e) <= ATOL + RTOL * Math.abs(e);
};

/** Null when every element is within tolerance, else the worst element's description. */
export function compareOutput(name: string, got: ArrayLike<number> | undefined, expected: TensorValue): string | null {
  if (!got) return `output '${name}' missing`;
  const want = expected.data as ArrayLike<number>;
  if (got.length !== want.length) return `output '${name}': ${got.length} values, expected ${want.length} (dims [${expected.dims.join(', ')}])`;
  let worst = -1;
  let worstBad = 0;
  for (let i = 0; i < want.length; i++) {
    const [g, e] = [Number(got[i]), Number(want[i])];
    if (close(g, e)) continue;
    const bad = Number.isFinite(g) && Number.isFinite(e) ? Math.abs(g - e) / (ATOL + RTOL * Math.abs(e)) : Infinity;
    if (worst < 0 || bad > worstBad) [worst, worstBad] = [i, bad];
  }
  return worst < 0 ? null : `worst element ${worst}${want.length > 1 ? '' : ''}: got ${got[worst]}, expected ${want[worst]}${name ? ` in '${name}'` : ''}`;
}

/** Null when the strings are equal, else the first that differs. */
export function compareStrings(name: string, got: unknown, expected: StringTensor): string | null {
  if (!Array.isArray(got)) return `output '${name}': expected strings, got ${got === undefined ? 'nothing' : typeof got}`;
  if (got.length !== expected.strings.length) return `output '${name}': ${got.length} strings, expected ${expected.strings.length} (dims [${expected.dims.join(', ')}])`;
  const i = expected.strings.findIndex((s, k) => got[k] !== s);
  return i < 0 ? null : `element ${i}: got ${JSON.stringify(got[i])}, expected ${JSON.stringify(expected.strings[i])}${name ? ` in '${name}'` : ''}`;
}

interface EmittedModule {
  createModel(weights?: undefined, options?: { mode?: string }): { run(feeds: Record<string, unknown>, batch: number): Record<string, ArrayLike<number> | string[]> };
}

/** Runs one case folder; never throws for problems of the case itself. */
export async function runCase(caseDir: string, options: ConformanceOptions = {}): Promise<CaseResult> {
  const name = path.basename(caseDir);
  const outDir = options.outDir ?? path.join(REPO_ROOT, 'build', 'conformance');
  try {
    const model = decodeModel(readFileSync(path.join(caseDir, 'model.onnx')));
    const dataDir = path.join(caseDir, 'test_data_set_0');
    const inputs = readNumbered(dataDir, 'input');
    const expected = readNumbered(dataDir, 'output');
    const initNames = new Set((model.graph!.initializer ?? []).map((t) => t.name));
    const graphInputs = (model.graph!.input ?? []).filter((v) => !initNames.has(v.name ?? ''));
    if (graphInputs.length !== inputs.length) {
      return { name, status: 'fail', detail: `the model has ${graphInputs.length} inputs, the test data ${inputs.length}` };
    }
    const inputShapes: Record<string, number[]> = {};
    const inputValues: Record<string, TensorValue> = {};
    graphInputs.forEach((v, i) => {
      const input = inputs[i];
      inputShapes[v.name ?? ''] = input.dims;
      // No op needs a string's value at compile time (strings are interned ids inside).
      if (!isStrings(input)) inputValues[v.name ?? ''] = input;
    });
    // Kiln compiles shapes ahead of time: an input an op needs at compile time (a Reshape's
    // shape, Slice bounds, reduction axes) is specialised on the test data's value.
    const graph = importModel(model, { inputShapes, inputValues, name });
    if (graph.inputs.length === 0) throw new UnsupportedError(`models without inputs are not supported`);
    const feeds: Record<string, unknown> = {};
    graphInputs.forEach((v, i) => {
      const input = inputs[i];
      feeds[v.name ?? ''] = isStrings(input) ? input.strings : toKilnArray(input, `input_${i}`).data;
    });
    const backend = options.backend ?? 'js';
    const compiled = compileModel(graph, { sourceName: `${name}/model.onnx`, backend });
    const dir = path.join(outDir, name.replace(/[^A-Za-z0-9_.-]/g, '_'));
    rmSync(dir, { recursive: true, force: true });
    ensureFolderSync(dir);
    const file = path.join(dir, 'model.js');
    writeFileAtomicSync(file, compiled.js);
    writeFileAtomicSync(path.join(dir, 'model.ts'), compiled.ts);
    const mod = (await import(/* @vite-ignore */ `${pathToFileURL(file).href}?t=${Date.now()}`)) as EmittedModule;
    const results = mod.createModel(undefined, backend === 'gpujs' ? { mode: options.gpu ?? 'webasm' } : {}).run(feeds, 1);
    const outputNames = graph.outputs.map((o) => o.name);
    if (expected.length !== outputNames.length) return { name, status: 'fail', detail: `${outputNames.length} outputs, the test data has ${expected.length}` };
    for (let i = 0; i < expected.length; i++) {
      const [want, got, label] = [expected[i], results[outputNames[i]], outputNames.length > 1 ? outputNames[i] : ''];
      const bad = isStrings(want)
        ? compareStrings(label, got, want)
        : compareOutput(label, got as ArrayLike<number> | undefined, { ...want, data: toKilnArray(want, `output_${i}`).data });
      if (bad) return { name, status: 'fail', detail: bad };
    }
    return { name, status: 'pass' };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof UnsupportedError) return { name, status: 'unsupported', detail: message };
    return { name, status: 'fail', detail: `${e instanceof Error ? e.name : 'error'}: ${message}` };
  }
}

/** Runs every case of `dir` (or `options.only`), in name order, one at a time. */
export async function runConformance(dir: string, options: ConformanceOptions = {}): Promise<CaseResult[]> {
  const backend = options.backend ?? 'js';
  if (!BACKENDS.includes(backend)) throw new UnsupportedError(`backend '${backend}' is not supported (choose from ${BACKENDS.join(', ')})`);
  const names = options.only ? [...options.only] : listCases(dir);
  const results: CaseResult[] = [];
  for (const name of names) {
    const r = existsSync(path.join(dir, name, 'model.onnx'))
      ? await runCase(path.join(dir, name), options)
      : { name, status: 'fail' as const, detail: `no such case folder` };
    results.push(r);
    options.onResult?.(r);
  }
  return results;
}
