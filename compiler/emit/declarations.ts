// The declaration file of an emitted module (`<name>.d.mts`), from the declarations writer.ts
// keeps as the module is written: every export with its explicit type (a constant's literal) and
// doc comment, functions without bodies, and the imports those declarations name. Without
// TypeScript: its declaration emit, cold, was a fifth of a compile once nothing else loads it.
import type { ImportStructure, ModuleText } from './writer.ts';

/** The names `text` uses outside comments and strings (a superset of the types it names). */
function namesUsed(text: string): Set<string> {
  const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, ' ');
  return new Set(code.match(/[A-Za-z_$][\w$]*/g) ?? []);
}

/** An import of the names in `used` only; none: ''. Type-only unless it imported values (GPU.js's GpuDevice is both). */
function importOf(s: ImportStructure, used: ReadonlySet<string>): string {
  const names = s.namedImports.filter((n) => used.has(n));
  return names.length ? `import ${s.isTypeOnly ? 'type ' : ''}{ ${names.join(', ')} } from ${JSON.stringify(s.moduleSpecifier)};\n` : '';
}

/**
 * The `.d.mts` text of the module in `f`: its header comment, every export with its type and doc
 * comment, the types it names imported from the runtime. An export without an explicit type is an
 * internal error (writer.ts).
 */
export function moduleDeclarations(f: ModuleText): string {
  const all = f.declarations();
  const texts = all.filter((d): d is string => typeof d === 'string');
  // Names re-exported from a module (`export type { … } from`) need no import.
  const used = namesUsed(texts.filter((t) => !/^export (?:type )?\{/.test(t)).join('\n'));
  const imports = all.filter((d): d is ImportStructure => typeof d !== 'string').map((s) => importOf(s, used));
  return `${f.header}\n${imports.join('')}${texts.map((t) => `${t}\n`).join('')}`;
}
