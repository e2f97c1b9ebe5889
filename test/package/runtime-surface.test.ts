// The runtime values and types that emitted modules use, and their declared shapes, recorded beside
// the runtime contract they belong to (runtime/contract.ts). A module compiled by this Kiln keeps
// calling them after the runtime under it is upgraded; a change to one of them (a parameter added,
// a type narrowed, a member gone) is a change of contract unless old modules' calls still mean
// the same. The names come from compiler/emit/runtime-names.ts, which the emitters draw from; this
// test checks that modules of each kind import nothing else, writes each name's declared shape as
// TypeScript's checker prints it and compares that with runtime-surface.txt. When they differ it
// fails with the lines that changed: decide whether modules compiled before are still served (if
// not, bump RUNTIME_CONTRACT), then record the new surface with
// `KILN_RECORD_SURFACE=1 npx vitest run test/package/runtime-surface.test.ts`.
// It guards declared shapes only; the layouts and memory conventions behind them are the
// contract's comment's to watch.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { compileModel } from '../../compiler/compile.ts';
import { RUNTIME_CONTRACT } from '../../runtime/contract.ts';
import { GPUJS_TYPES, GPUJS_VALUES, MODEL_TYPES, MODEL_VALUES, NODE_TYPES, TRAINER_TYPES, TRAINER_VALUES } from '../../compiler/emit/runtime-names.ts';
import { layers, sequential } from '../../src/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const RECORD = path.join(here, 'runtime-surface.txt');

/** Each runtime entry an emitted module imports, and the source file behind it (kiln/runtime: its browser-safe entry). */
const ENTRY_SOURCES: Readonly<Record<string, string>> = {
  'kiln/runtime': 'runtime/index.ts',
  'kiln/runtime/inference': 'runtime/inference.ts',
  'kiln/runtime/gpujs': 'runtime/gpujs.ts',
  'kiln/runtime/node': 'runtime/node.ts',
};

/** The names emitted modules import from each runtime entry (values and types alike), by entry. */
function importedNames(modules: readonly string[]): Map<string, Set<string>> {
  const byEntry = new Map<string, Set<string>>();
  for (const text of modules) {
    for (const [, names, entry] of text.matchAll(/^import (?:type )?\{([^}]*)\} from "(kiln\/runtime[^"]*)";$/gm)) {
      const set = byEntry.get(entry) ?? new Set<string>();
      for (const name of names.split(',')) if (name.trim()) set.add(name.trim());
      byEntry.set(entry, set);
    }
  }
  return byEntry;
}

/** The names of runtime-names.ts, by the entry they are imported from (a module's model values come from either of two). */
const NAMES: Readonly<Record<string, readonly string[]>> = {
  'kiln/runtime': [...MODEL_VALUES, ...TRAINER_VALUES, ...MODEL_TYPES, ...TRAINER_TYPES],
  'kiln/runtime/inference': [...MODEL_VALUES, ...MODEL_TYPES],
  'kiln/runtime/node': NODE_TYPES,
  'kiln/runtime/gpujs': [...GPUJS_VALUES, ...GPUJS_TYPES],
};

/** Modules of every kind the compiler emits, for a small model with a trainer. */
function emittedModules(): string[] {
  const graph = sequential({ name: 'surface', input: [4] }, [layers.dense(3, { activation: 'relu' }), layers.dense(2)]).graph;
  const training = { loss: resolveLoss(graph, 'mse'), optimizer: resolveOptimizer('adam', 1e-3) };
  const js = compileModel(graph, { training, inferenceModule: true });
  const gpu = compileModel(graph, { backend: 'gpujs', training });
  return [js.js, js.ts, js.dts, js.inference!.js, js.inference!.dts, gpu.js, gpu.ts, gpu.dts];
}

const FORMAT = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.WriteClassExpressionAsTypeLiteral;

/** The public members of an object type, one line each (`.name: type`). */
function members(checker: ts.TypeChecker, type: ts.Type, at: ts.Node): string[] {
  const lines: string[] = [];
  for (const member of checker.getPropertiesOfType(type)) {
    const declaration = member.valueDeclaration ?? member.declarations?.[0];
    if (member.name.startsWith('#') || (declaration && ts.getCombinedModifierFlags(declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected))) continue;
    const optional = member.flags & ts.SymbolFlags.Optional ? '?' : '';
    lines.push(`.${member.name}${optional}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(member, at), at, FORMAT)}`);
  }
  for (const s of type.getCallSignatures()) lines.push(checker.signatureToString(s, at, FORMAT));
  return lines;
}

/** One exported name's declared shape: a value's type (a class: its constructors and public members), a type's members or its text. */
function shapeOf(checker: ts.TypeChecker, symbol: ts.Symbol, at: ts.Node): string[] {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  if (target.flags & ts.SymbolFlags.Class) {
    const ctor = checker.getTypeOfSymbolAtLocation(target, at);
    return [...ctor.getConstructSignatures().map((s) => `new ${checker.signatureToString(s, at, FORMAT)}`), ...members(checker, checker.getDeclaredTypeOfSymbol(target), at)];
  }
  if (target.flags & ts.SymbolFlags.Value) return [checker.typeToString(checker.getTypeOfSymbolAtLocation(target, at), at, FORMAT)];
  const type = checker.getDeclaredTypeOfSymbol(target);
  const listed = target.flags & ts.SymbolFlags.Interface || type.flags & ts.TypeFlags.Object ? members(checker, type, at) : [];
  // A type without members of its own (a union, a Record): its text, expanded.
  return listed.length ? listed : [checker.typeToString(type, at, FORMAT | ts.TypeFormatFlags.InTypeAlias)];
}

/** A type's text with the checker's `import("…/runtime/x").` qualifiers dropped: names alone, the same on every machine. */
const bareNames = (text: string) => text.replace(/import\("[^"]*"\)\./g, '');

/** The surface as text: the contract, then for each entry and name (sorted) its declared shape. */
function surface(): string {
  const files = Object.keys(NAMES).map((entry) => path.join(root, ENTRY_SOURCES[entry]));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const lines = [`RUNTIME_CONTRACT ${RUNTIME_CONTRACT}`];
  for (const entry of Object.keys(NAMES).sort()) {
    const source = program.getSourceFile(path.join(root, ENTRY_SOURCES[entry]))!;
    const exported = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).map((s) => [s.name, s]));
    for (const name of [...NAMES[entry]].sort()) {
      const symbol = exported.get(name);
      if (!symbol) throw new Error(`runtime-names.ts lists ${name} for ${entry}, which does not export it`);
      for (const line of shapeOf(checker, symbol, source).map(bareNames)) lines.push(`${entry} ${name}${line.startsWith('.') || line.startsWith('new ') ? ' ' : ': '}${line}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('the runtime surface emitted modules call', () => {
  it('is the one recorded for this runtime contract', { timeout: 60_000 }, () => {
    const now = surface();
    if (process.env.KILN_RECORD_SURFACE === '1') writeFileSync(RECORD, now);
    const recorded = readFileSync(RECORD, 'utf8');
    const [was, is] = [new Set(recorded.split('\n')), new Set(now.split('\n'))];
    const changed = [...[...was].filter((l) => !is.has(l)).map((l) => `- ${l}`), ...[...is].filter((l) => !was.has(l)).map((l) => `+ ${l}`)];
    expect(
      changed,
      'the runtime functions emitted modules call changed: bump RUNTIME_CONTRACT unless modules compiled before still mean the same by their calls, then record it (see the head of this file)',
    ).toEqual([]);
  });

  it('lists everything modules of each kind import from the runtime', () => {
    for (const [entry, names] of importedNames(emittedModules())) {
      expect(NAMES[entry], `an emitted module imports from ${entry}`).toBeDefined();
      expect([...names].filter((n) => !NAMES[entry].includes(n)), `imported from ${entry} but not in compiler/emit/runtime-names.ts`).toEqual([]);
    }
  });
});
