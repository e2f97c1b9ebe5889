// What can go wrong while loading a model file, as one-line KilnErrors: not a file, not a model
// file, a syntax error, the model's own code throwing, a default export that only looks like a model.
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCode, osReason } from '../runtime/file-errors.ts';
import { KilnError } from '../src/ir/errors.ts';

/** Extensions that load as code (through tsx); .onnx and .json have their own readers. */
const CODE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx']);

/** The package root: frames under its own folders are Kiln's code (or its libraries'), not the user's. */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const KILN_FOLDERS = ['cli', 'src', 'compiler', 'runtime', 'dist', 'node_modules'].map((d) => path.join(ROOT, d) + path.sep);

/** Throws a KilnError unless `abs` is an existing file with a model file's extension. */
export function checkModelFile(file: string, abs: string): void {
  let isFolder: boolean;
  try {
    isFolder = statSync(abs).isDirectory();
  } catch (e) {
    if (errorCode(e) === 'ENOENT') throw new KilnError(`model file not found: ${file}`);
    throw new KilnError(`cannot read the model file ${file}: ${osReason(e)}`);
  }
  if (isFolder) throw new KilnError(`${file} is a folder, not a model file: give the model's .ts, .onnx or .json file`);
  const ext = path.extname(abs).toLowerCase();
  if (!CODE_EXTENSIONS.has(ext)) {
    throw new KilnError(`${file} is not a model file (${ext || 'no extension'}): Kiln reads TypeScript or JavaScript model files (.ts, .js), ONNX files (.onnx) and graph JSON (.json)`);
  }
}

/** esbuild's error objects (a TypeScript syntax error surfaces as one of these, through tsx). */
interface EsbuildMessage {
  text?: string;
  location?: { file?: string; line?: number; column?: number } | null;
}

/** The first `file:line:column` of a stack that is not Node's own. */
function firstFrame(stack: string): { file: string; line: string; column: string } | undefined {
  for (const raw of stack.split('\n').slice(1)) {
    const m = /\(([^()]+):(\d+):(\d+)\)$/.exec(raw.trim()) ?? /^at (\S+):(\d+):(\d+)$/.exec(raw.trim());
    if (!m || m[1].startsWith('node:')) continue;
    const file = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    return { file, line: m[2], column: m[3] };
  }
  return undefined;
}

/** Node's "Cannot find package 'x' imported from /dir/file": the package and the importing file. */
function missingPackage(message: string): { name: string; importer: string } | undefined {
  const m = /^Cannot find package '([^']+)' imported from (.+)$/.exec(message);
  if (!m) return undefined;
  const importer = m[2].startsWith('file://') ? fileURLToPath(m[2]) : m[2];
  return { name: m[1], importer };
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];
const shown = (abs: string) => path.relative(process.cwd(), abs) || abs;

/**
 * The error to throw when importing the model file failed: a KilnError for the user's mistakes
 * (syntax, a missing import, their own code throwing), or `e` itself when Kiln's code failed.
 */
export function importFailure(file: string, abs: string, e: unknown): Error {
  if (e instanceof KilnError) return e;
  const esbuild = (e as { errors?: EsbuildMessage[] }).errors;
  if (Array.isArray(esbuild) && esbuild.length > 0 && typeof esbuild[0]?.text === 'string') {
    const at = esbuild[0].location;
    const where = at?.file ? `${shown(path.resolve(at.file))}:${at.line ?? '?'}:${(at.column ?? 0) + 1}` : file;
    return new KilnError(`syntax error in the model file: ${where}: ${esbuild[0].text}`, { cause: e });
  }
  // Through tsx's loader thread the error arrives as text only: "Transform failed …\n<file>:<line>:<col>: ERROR: <text>".
  const transform = e instanceof Error && /^Transform failed/.test(e.message) ? /^(.+):(\d+):(\d+): ERROR: (.*)$/m.exec(e.message) : null;
  if (transform) {
    return new KilnError(`syntax error in the model file: ${shown(path.resolve(transform[1]))}:${transform[2]}:${Number(transform[3]) + 1}: ${transform[4]}`, { cause: e });
  }
  const code = errorCode(e);
  if (code === 'ERR_REQUIRE_CYCLE_MODULE' || code === 'ERR_REQUIRE_ESM') {
    return new KilnError(`cannot load the model file ${file} as an ES module: name it .mts, or put it in a folder whose package.json says "type": "module"`, { cause: e });
  }
  const missing = code === 'ERR_MODULE_NOT_FOUND' ? missingPackage(firstLine(e)) : undefined;
  if (missing) {
    const folder = path.dirname(missing.importer);
    return new KilnError(`the model file ${file} imports '${missing.name}', which is not installed in ${folder} or a folder above it (npm install ${missing.name} there)`, { cause: e });
  }
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_DIR_IMPORT' || code === 'ERR_UNKNOWN_FILE_EXTENSION') {
    return new KilnError(`cannot load the model file ${file}: ${firstLine(e)}`, { cause: e });
  }
  if (e instanceof SyntaxError) return new KilnError(`syntax error in the model file ${file}: ${e.message}`, { cause: e });
  if (!(e instanceof Error)) return new KilnError(`the model file ${file} threw ${String(e)} while it ran`, { cause: e });
  const frame = firstFrame(e.stack ?? '');
  if (frame && !KILN_FOLDERS.some((d) => frame.file.startsWith(d))) {
    return new KilnError(`the model file ${file} failed while it ran: ${e.name}: ${firstLine(e)} (at ${shown(frame.file)}:${frame.line}:${frame.column})`, { cause: e });
  }
  return e;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Whether `v` looks like a node made by `makeNode` (frozen, with an op, inputs and a typed shape). */
function nodeProblem(v: unknown): string | undefined {
  if (!isObject(v) || !Object.isFrozen(v)) return 'is not a node made by Kiln';
  if (typeof v.op !== 'string') return 'has no op';
  if (!Array.isArray(v.inputs)) return 'has no list of inputs';
  if (!isObject(v.type) || !Array.isArray(v.type.shape) || typeof v.type.dtype !== 'string') return 'has no tensor type';
  if (!isObject(v.attrs) || !isObject(v.meta)) return 'has no attributes';
  return undefined;
}

/**
 * Why a value with `kind: 'kiln.model'` is not a model that `model()`/`sequential()` made, or
 * undefined when it is one. Walks every node (iteratively: graphs may be deep).
 */
export function fakeModelProblem(model: unknown): string | undefined {
  const m = model as Record<string, unknown>;
  const g = m.graph;
  if (!isObject(g)) return `its graph is ${g === undefined ? 'missing' : `a ${typeof g}, not a graph`}`;
  if (typeof g.name !== 'string') return 'its graph has no name';
  if (!Array.isArray(g.inputs) || !Array.isArray(g.outputs) || g.outputs.length === 0) return 'its graph needs lists of inputs and outputs';
  if (m.weights !== undefined && (!isObject(m.weights) || !Object.values(m.weights).every((w) => w instanceof Float32Array))) return 'its weights are not Float32Arrays';
  const stack: unknown[] = [...g.inputs];
  for (const [i, o] of (g.outputs as unknown[]).entries()) {
    if (!isObject(o) || typeof o.name !== 'string') return `output ${i} has no name`;
    stack.push(o.node);
  }
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const node = stack.pop();
    if (seen.has(node)) continue;
    seen.add(node);
    const problem = nodeProblem(node);
    if (problem) return `a node of its graph ${problem}`;
    stack.push(...(node as { inputs: unknown[] }).inputs);
  }
  return undefined;
}
