// An emitted module's manifest read from its text, without importing the module: importing runs
// its code and resolves its imports, which fails for a module written outside a project that has
// Kiln installed ("Cannot find package 'kiln'"), and inspecting a file should not run it anyway.
// The manifest is a literal of a fixed, small grammar (compiler/emit/manifest.ts's valueSource):
// objects with identifier keys, arrays, JSON string literals and integers.
import { KilnError } from '../../src/ir/errors.ts';

/** Where the declaration's value starts; `: ModuleManifest` is there in the TypeScript source. */
const DECLARATION = /export\s+const\s+manifest\s*(?::\s*ModuleManifest\s*)?=\s*(?=\{)/;

/** One token of the literal: punctuation, a key, a JSON string, an integer; whitespace between. */
const TOKEN = /\s*(?:([{}[\],:])|([A-Za-z_$][\w$]*)|("(?:[^"\\\n\r]|\\.)*")|(-?\d+))/y;

/**
 * The value of `export const manifest = {…}` in a module's text, or undefined when the text has
 * no such declaration (a bundled or minified module). A declaration that is not the literal
 * Kiln writes is a one-line error naming `file`.
 */
export function manifestFromText(text: string, file: string): unknown {
  const m = DECLARATION.exec(text);
  if (!m) return undefined;
  const bad = (why: string): never => {
    throw new KilnError(`${file}: its manifest is not the literal Kiln writes (${why}): recompile the module`);
  };
  const json: string[] = [];
  let depth = 0;
  TOKEN.lastIndex = m.index + m[0].length;
  // Tokens until the brace that opened the literal closes: keys are quoted, the rest is JSON already.
  do {
    const at = TOKEN.lastIndex;
    const t = TOKEN.exec(text);
    if (!t) return bad(`unexpected text at offset ${at}`);
    const [, punct, key, str, int] = t;
    if (punct === '{' || punct === '[') depth++;
    if (punct === '}' || punct === ']') depth--;
    json.push(punct ?? (key !== undefined ? JSON.stringify(key) : (str ?? int)));
  } while (depth > 0);
  try {
    return JSON.parse(json.join(''));
  } catch (e) {
    return bad((e as Error).message);
  }
}
