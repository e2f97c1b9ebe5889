// An emitted module's JavaScript: its TypeScript with the types stripped (strip-types.ts), and its
// kernels' (rendered TypeScript whose only types are in their signatures) made JavaScript by a
// line rewrite. V8 must parse what comes out; if it does not, TypeScript's transpiler makes the
// JavaScript instead (slower by a third of a compile, not wrong), so a construct strip-types.ts
// does not know costs time, never a broken module.
import { typescript } from './typescript.ts';
import { stripTypes } from './strip-types.ts';

/** transpileModule's options: ES2022 modules, imports kept as written (type-only ones dropped). */
function transpileOptions() {
  const ts = typescript();
  return { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true } };
}

/** The JavaScript of a module and whether TypeScript's transpiler made it (printing 4 spaces a level). */
export interface ModuleJs {
  readonly js: string;
  readonly transpiled: boolean;
}

/**
 * The JavaScript of a module: `typed` (its statements that have JavaScript, types still in them)
 * stripped of types; where V8 does not parse that, TypeScript's transpile of `full` (the module).
 */
export function moduleJs(typed: string, full: string): ModuleJs {
  const js = stripTypes(typed);
  if (parsesAsJavaScript(asScript(js))) return { js, transpiled: false };
  return { js: typescript().transpileModule(full, transpileOptions()).outputText, transpiled: true };
}

/**
 * A module's text as a script V8 can parse with `new Function` (strict, as a module is): imports
 * (one line each, from the emitters) and `export` keywords dropped, `import.meta` renamed.
 */
function asScript(js: string): string {
  const body = js
    .replace(/^import \{[^}\n]*\} from [^;\n]+;$/gm, '')
    .replace(/^export (?=const |let |function |async function )/gm, '')
    .replace(/\bimport\.meta\b/g, 'importMeta');
  return `"use strict";\n${body}`;
}

/**
 * A rendered kernel's signature, the only TypeScript in a kernel (compiler/codegen/js-kernel.ts):
 * `function k0(batch: number, out: Float32Array, x0: Float32Array, lo = 0, hi = 16): void {`.
 */
const SIGNATURE = /^function (\w+)\((.*)\): void \{$/;
const PARAM_TYPE = /: (?:number|Float32Array|Float64Array|Int32Array)$/;

/**
 * The JavaScript of rendered kernels: their signatures without types, indented as the rest of the
 * module's JavaScript (two spaces a level; four where TypeScript's transpiler printed it).
 * Running TypeScript's transpiler over 170 KB of kernels took a fifth of a compile; this takes
 * milliseconds. Anything else that is not plain JavaScript fails V8's parse and goes through the
 * transpiler after all.
 */
export function kernelsJs(text: string, transpiled: boolean): string {
  const js = text
    .split('\n')
    .map((line) => {
      const m = SIGNATURE.exec(line);
      if (m) return `function ${m[1]}(${m[2].split(', ').map((p) => p.replace(PARAM_TYPE, '')).join(', ')}) {`;
      return transpiled ? line.replace(/^( {2,})/, '$1$1') : line;
    })
    .join('\n');
  return parsesAsJavaScript(js) ? js : transpiledKernels(text);
}

/** Whether V8 parses `js` as a function body (it compiles nothing it does not call). */
function parsesAsJavaScript(js: string): boolean {
  try {
    new Function(js);
    return true;
  } catch {
    return false;
  }
}

/** TypeScript's transpile of kernels, without the prologue a non-module gets. */
function transpiledKernels(text: string): string {
  const out = typescript().transpileModule(text, transpileOptions()).outputText.replace(/^"use strict";\n/, '');
  return out.endsWith('\n') ? out.slice(0, -1) : out;
}
