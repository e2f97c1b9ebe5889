// TypeScript's compiler API, loaded on first use with require: the copy ts-morph (Kiln's
// dependency) bundles, without ts-morph itself, which an emit does not use.
//
// Why: `import { ts } from 'ts-morph'` made Node's ES-module loader scan ts-morph's CommonJS
// files for their export names (cjs-module-lexer) and load ts-morph and its helpers, about a fifth
// of a compile; a require of the bundled typescript.js loads only what transpiling needs. A module
// that imports this file loads nothing until a function here is called (kiln check never does).
import { createRequire } from 'node:module';
import type { ts as TypeScript } from 'ts-morph';

export type Ts = typeof TypeScript;

let loaded: Ts | undefined;

/** The TypeScript compiler API (ts-morph's copy), loaded once. */
export function typescript(): Ts {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    // ts-morph's own dependency, resolved from where ts-morph is (npm may not hoist it).
    loaded = createRequire(require.resolve('ts-morph'))('@ts-morph/common/dist/typescript.js') as Ts;
  } catch {
    // Another layout of ts-morph's packages: its exported copy (the same TypeScript, loaded with ts-morph).
    loaded = (require('ts-morph') as { ts: Ts }).ts;
  }
  return loaded;
}
