// The text of an emitted module, built by appending declarations that come out already formatted
// (two-space indentation, TypeScript's formatter's spacing), so a compile neither parses the module
// as it grows nor runs the formatter over it. test/emit/formatted.test.ts runs TypeScript's formatter
// over emitted modules and checks that it changes nothing.
//
// Why not ts-morph: it re-parsed the module on each insertion and its formatText parsed it again;
// with TypeScript's loading, that was about two thirds of a compile (issue 19).
//
// The add* methods take the shapes ts-morph's structures had (what the emitters used of them).
// Statement text is written without indentation; it is indented here by its brackets.
import { KilnError } from '../../src/ir/errors.ts';

export interface DocumentedStructure {
  /** Doc comments; one with line breaks becomes a multi-line comment. */
  readonly docs?: readonly string[];
  readonly isExported?: boolean;
}

export interface VariableStatementStructure extends DocumentedStructure {
  /** `const` unless said. */
  readonly declarationKind?: 'const' | 'let';
  readonly declarations: readonly { readonly name: string; readonly type?: string; readonly initializer?: string }[];
}

export interface ParameterStructure {
  readonly name: string;
  readonly type?: string;
  readonly initializer?: string;
  readonly hasQuestionToken?: boolean;
}

export interface FunctionStructure extends DocumentedStructure {
  readonly name: string;
  readonly parameters?: readonly ParameterStructure[];
  readonly returnType?: string;
  readonly statements: readonly string[];
}

export interface InterfaceStructure extends DocumentedStructure {
  readonly name: string;
  readonly extends?: readonly string[];
  readonly properties: readonly { readonly name: string; readonly type: string; readonly hasQuestionToken?: boolean; readonly docs?: readonly string[] }[];
}

export interface TypeAliasStructure extends DocumentedStructure {
  readonly name: string;
  readonly type: string;
}

export interface ImportStructure {
  readonly moduleSpecifier: string;
  readonly namedImports: readonly string[];
  readonly isTypeOnly?: boolean;
}

export interface ExportStructure {
  readonly moduleSpecifier: string;
  readonly namedExports: readonly string[];
  readonly isTypeOnly?: boolean;
}

/** What a top-level statement is, for the blank lines between statements. */
type Kind = 'import' | 'small' | 'block';

/** A module's text, appended to statement by statement. */
export class ModuleText {
  private readonly parts: string[] = [];
  /** The statements that have JavaScript (not interfaces, type aliases, type-only imports and exports), still typed. */
  private readonly jsParts: string[] = [];
  /** Imports, and the declaration (`.d.mts`) text of each export: what declarations.ts writes. */
  private readonly exported: (string | ImportStructure)[] = [];
  private last: Kind | undefined;
  private lastJs: Kind | undefined;

  /** `header`: the doc comment the module starts with. */
  constructor(readonly header: string) {}

  addImportDeclaration(s: ImportStructure): void {
    const text = `import ${s.isTypeOnly ? 'type ' : ''}{ ${s.namedImports.join(', ')} } from ${quoted(s.moduleSpecifier)};`;
    this.push('import', text, !s.isTypeOnly);
    this.exported.push(s);
  }

  addExportDeclaration(s: ExportStructure): void {
    const text = `export ${s.isTypeOnly ? 'type ' : ''}{ ${s.namedExports.join(', ')} } from ${quoted(s.moduleSpecifier)};`;
    this.push('block', text, !s.isTypeOnly);
    this.exported.push(text);
  }

  addVariableStatement(s: VariableStatementStructure): void {
    const declarations = s.declarations.map((d) => `${d.name}${d.type ? `: ${d.type}` : ''}${d.initializer !== undefined ? ` = ${d.initializer}` : ''}`);
    const kind = s.declarationKind ?? 'const';
    const declared = () => indentLines(`export declare ${kind} ${s.declarations.map((d) => `${d.name}${declaredType(d)}`).join(', ')};`);
    this.addStatement('small', s, indentLines(`${exported(s)}${kind} ${declarations.join(', ')};`), declared);
  }

  addVariableStatements(list: readonly VariableStatementStructure[]): void {
    for (const s of list) this.addVariableStatement(s);
  }

  addFunction(s: FunctionStructure): void {
    const head = `${exported(s)}function ${s.name}(${(s.parameters ?? []).map(parameter).join(', ')})${s.returnType ? `: ${s.returnType}` : ''} {`;
    const body = s.statements.length ? spacedFunctions(indentLines(s.statements.join('\n'), 1)) + '\n' : '';
    const declared = () => indentLines(`export declare function ${s.name}(${(s.parameters ?? []).map(declaredParameter(s.name)).join(', ')}): ${s.returnType ?? untyped(s.name)};`);
    this.addStatement('block', s, `${head}\n${body}}`, declared);
  }

  addInterface(s: InterfaceStructure): void {
    const members = s.properties.map((p) => `${docComment(p.docs, 1)}  ${p.name}${p.hasQuestionToken ? '?' : ''}: ${indentLines(p.type, 1, false)};\n`);
    const head = `${exported(s)}interface ${s.name}${s.extends?.length ? ` extends ${s.extends.join(', ')}` : ''} {`;
    const text = `${head}\n${members.join('')}}`;
    this.addStatement('block', s, text, () => text, false);
  }

  addTypeAlias(s: TypeAliasStructure): void {
    const text = indentLines(`${exported(s)}type ${s.name} = ${s.type};`);
    this.addStatement('block', s, text, () => text, false);
  }

  /** Statements as written (comments, declarations a structure does not cover), indented by their brackets. */
  addStatements(statements: string | readonly string[]): void {
    const text = (typeof statements === 'string' ? statements : statements.join('\n')).trimEnd();
    // Text that ends with a block (a function written as text) is set apart like a function.
    if (text.trim()) this.push(/\n?\}$/.test(text) ? 'block' : 'small', indentLines(text));
  }

  /** The module's text so far. */
  getFullText(): string {
    return `${this.header}\n${this.parts.join('')}`;
  }

  /** The module's text without the statements that are types only (its JavaScript, before stripTypes). */
  getJsCandidate(): string {
    return `${this.header}\n${this.jsParts.join('')}`;
  }

  /** The imports, and each export's declaration with its doc comment, in order. */
  declarations(): readonly (string | ImportStructure)[] {
    return this.exported;
  }

  /** `declared`: the statement's declaration, made only when it is exported. */
  private addStatement(kind: Kind, s: DocumentedStructure, text: string, declared: () => string, hasJs = true): void {
    const full = docComment(s.docs, 0) + text;
    this.push(kind, full, hasJs);
    if (s.isExported) this.exported.push(docComment(s.docs, 0) + declared());
  }

  /** Appends a statement: a blank line around blocks (functions, interfaces) and after the imports. */
  private push(kind: Kind, text: string, hasJs = true): void {
    this.parts.push(`${blankLine(this.last, kind) ? '\n' : ''}${text}\n`);
    this.last = kind;
    if (!hasJs) return;
    this.jsParts.push(`${blankLine(this.lastJs, kind) ? '\n' : ''}${text}\n`);
    this.lastJs = kind;
  }
}

/** A function body with a blank line after each function declared directly in it (readability only). */
function spacedFunctions(body: string): string {
  const lines = body.split('\n');
  let inFunction = false;
  return lines
    .map((line, i) => {
      if (/^ {2}(?:async )?function /.test(line) && line.endsWith('{')) inFunction = true;
      else if (inFunction && line === '  }') {
        inFunction = false;
        if (i + 1 < lines.length && lines[i + 1] !== '') return `${line}\n`;
      }
      return line;
    })
    .join('\n');
}

/** Whether a blank line goes between a statement of kind `last` and one of kind `kind`. */
function blankLine(last: Kind | undefined, kind: Kind): boolean {
  return last !== undefined && (kind === 'block' || last === 'block' || (last === 'import') !== (kind === 'import'));
}

const exported = (s: DocumentedStructure) => (s.isExported ? 'export ' : '');

/** A module specifier as TypeScript's printer quotes it. */
const quoted = (spec: string) => JSON.stringify(spec);

/** An export whose type the writer cannot state without inference: an emitter must give one. */
function untyped(name: string): never {
  throw new KilnError(`internal: the emitted module's export '${name}' has no explicit type (its declaration needs one)`);
}

/** A declared constant's type: given, or a literal's (`= "cnn"`, `= 0`, `'js' as const`: `: 'js'`). */
function declaredType(d: VariableStatementStructure['declarations'][number]): string {
  if (d.type) return `: ${d.type}`;
  const init = d.initializer ?? '';
  if (/^(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|-?\d+(?:\.\d+)?)$/.test(init)) return ` = ${init}`;
  const constant = /^('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*") as const$/.exec(init);
  return constant ? `: ${constant[1]}` : untyped(d.name);
}

/** A declared function's parameter: optional when it has a default; its type required. */
const declaredParameter = (fn: string) => (p: ParameterStructure) => `${p.name}${p.hasQuestionToken || p.initializer !== undefined ? '?' : ''}: ${p.type ?? untyped(`${fn}(${p.name})`)}`;

const parameter = (p: ParameterStructure) => `${p.name}${p.hasQuestionToken ? '?' : ''}${p.type ? `: ${p.type}` : ''}${p.initializer !== undefined ? ` = ${p.initializer}` : ''}`;

/** `docs` as a doc comment at `level`, with its line break; none: ''. */
export function docComment(docs: readonly string[] | undefined, level: number): string {
  if (!docs?.length) return '';
  const pad = '  '.repeat(level);
  return docs
    .map((d) => {
      const lines = d.split('\n');
      return lines.length === 1 ? `${pad}/** ${d} */\n` : `${pad}/**\n${lines.map((l) => `${pad} *${l ? ' ' + l : ''}`).join('\n')}\n${pad} */\n`;
    })
    .join('');
}

const OPENERS = '([{';
const CLOSERS = ')]}';

/**
 * Where a scan of source text stands at a line break: inside a block comment, or inside template
 * literals (each with the depth of `${` braces that returns to it); otherwise in code.
 */
interface ScanState {
  comment: boolean;
  /** Brace depth inside each open `${…}`, innermost last; a template's own text is depth -1. */
  templates: number[];
}

/**
 * `text` (lines without indentation, or indented any way) indented two spaces per bracket level,
 * starting at `level`: a line is one level in from the line that opened its brackets (however
 * many that line opened), and a line that starts by closing them is back at that line's level.
 * Text inside template literals is kept as it is; doc-comment lines are aligned under their `/**`.
 * `first`: whether the first line is indented too (false: it continues a line already written).
 */
export function indentLines(text: string, level = 0, first = true): string {
  // Each entry: brackets still open from one line that opened some (one indentation level).
  const levels: number[] = [];
  const state: ScanState = { comment: false, templates: [] };
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const inTemplate = state.templates.length > 0 && state.templates[state.templates.length - 1] === -1;
    if (inTemplate) {
      // A template literal's text: its line breaks and spaces are its value.
      out.push(raw);
      scanLine(raw, state, () => {}, () => false);
      return;
    }
    const line = raw.trim();
    const pad = (n: number) => (i === 0 && !first ? '' : '  '.repeat(level + n));
    if (state.comment) {
      out.push(line ? `${pad(levels.length)}${line.startsWith('*') ? ' ' : ''}${line}` : '');
      scanLine(line, state, () => {}, () => false);
      return;
    }
    let leading = true;
    let partial = false;
    let pending = 0;
    let indent = levels.length;
    scanLine(
      line,
      state,
      (c) => {
        if (OPENERS.includes(c)) {
          leading = false;
          pending++;
        } else if (pending > 0) {
          pending--;
        } else if (levels.length) {
          // `partial`: the line's leading closers left the last level open (`}, {`): the line is at its opener's level.
          if (--levels[levels.length - 1] === 0) {
            levels.pop();
            if (leading) partial = false;
          } else if (leading) partial = true;
          if (leading) indent = levels.length - (partial ? 1 : 0);
        }
      },
      // Any other code character ends the closers a line starts with.
      () => (leading = false),
    );
    if (pending > 0) {
      if (partial && levels.length) levels[levels.length - 1] += pending;
      else levels.push(pending);
    }
    out.push(line ? pad(indent) + line : '');
  });
  return out.join('\n');
}

/**
 * Scans one line of code from `state`, calling `bracket` for each bracket in code (not in strings,
 * comments or template text) and `other` for any other character of code that is not a space.
 */
function scanLine(line: string, state: ScanState, bracket: (c: string) => void, other: () => unknown): void {
  const t = state.templates;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (state.comment) {
      if (c === '*' && line[i + 1] === '/') {
        state.comment = false;
        i++;
      }
      continue;
    }
    if (t.length && t[t.length - 1] === -1) {
      // Template text: `${` opens code, a backtick closes the template.
      if (c === '\\') i++;
      else if (c === '`') t.pop();
      else if (c === '$' && line[i + 1] === '{') {
        t[t.length - 1] = -2; // marks the template as waiting under the code it holds
        t.push(0);
        i++;
      }
      continue;
    }
    if (c === '/' && line[i + 1] === '/') return;
    if (c === '/' && line[i + 1] === '*') {
      state.comment = true;
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      for (i++; i < line.length && line[i] !== c; i++) if (line[i] === '\\') i++;
      other();
      continue;
    }
    if (c === '`') {
      t.push(-1);
      other();
      continue;
    }
    if (t.length && c === '{') t[t.length - 1]++;
    if (t.length && c === '}') {
      if (t[t.length - 1] === 0) {
        // The end of a `${…}`: back to its template's text.
        t.pop();
        t[t.length - 1] = -1;
        continue;
      }
      t[t.length - 1]--;
    }
    if (OPENERS.includes(c) || CLOSERS.includes(c)) bracket(c);
    else if (c !== ' ') other();
  }
}
