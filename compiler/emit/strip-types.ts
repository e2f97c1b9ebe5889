// The JavaScript of an emitted module's TypeScript: its types removed, nothing else changed (layout,
// comments, names), without loading TypeScript. Why: TypeScript's transpileModule, cold, was a
// third of a compile (issue 19: compile stays <= 1.5 s), and loading TypeScript for it another tenth.
//
// Only the TypeScript that Kiln's emitters write is understood, not TypeScript at large: types of
// parameters (`x: T`, `x?: T`), of return values (`): T {`, `): T =>`), of variables
// (`const x: T =`), `as T` and `as const`, non-null `x!`, type arguments of calls (`f<T>(`).
// Interfaces, type aliases and type-only imports never reach it (writer.ts leaves them out of the
// JavaScript). closeModule checks that V8 parses the result and otherwise falls back on
// TypeScript's transpiler; test/emit/strip-types.test.ts compares it with that transpiler's output
// on emitted modules.

interface Token {
  /** 'id' (identifiers and keywords), 'p' (punctuation), 'lit' (strings, templates, numbers), 'ws' (spaces, comments). */
  readonly kind: 'id' | 'p' | 'lit' | 'ws';
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/**
 * One token at a time (sticky): spaces, comments, strings, names, numbers, then punctuation, the
 * longest first. Template literals are matched by templateEnd (their `${…}` nest).
 */
const TOKEN = new RegExp(
  [
    String.raw`(\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/)`,
    String.raw`("(?:[^"\\\n]+|\\[\s\S])*"|'(?:[^'\\\n]+|\\[\s\S])*'|\.?\d(?:[eE][+-]|[\w.])*)`,
    String.raw`([A-Za-z_$][\w$]*)`,
    String.raw`(>>>=|\.\.\.|===|!==|\*\*=|<<=|>>=|>>>|\?\?=|&&=|\|\|=|=>|==|!=|<=|>=|&&|\|\||\?\?|\?\.(?!\d)|\+\+|--|[-+*/%&|^]=|\*\*|<<|>>|[\s\S])`,
  ].join('|'),
  'y',
);

/** The tokens of `text`: spaces and comments kept as tokens so that ranges map back to the text. */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) === 96 /* ` */) {
      const end = templateEnd(text, i);
      out.push({ kind: 'lit', text: text.slice(i, end), start: i, end });
      i = end;
      continue;
    }
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(text)!;
    const kind = m[1] !== undefined ? 'ws' : m[2] !== undefined ? 'lit' : m[3] !== undefined ? 'id' : 'p';
    out.push({ kind, text: m[0], start: i, end: i + m[0].length });
    i += m[0].length;
  }
  return out;
}

/** The end of the template literal starting at `start` (its `${…}` parts may hold strings, templates and braces). */
function templateEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '`') return i + 1;
    else if (c === '$' && text[i + 1] === '{') {
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        const d = text[i];
        if (d === '`') i = templateEnd(text, i);
        else if (d === '"' || d === "'") {
          let j = i + 1;
          while (j < text.length && text[j] !== d) j += text[j] === '\\' ? 2 : 1;
          i = j + 1;
        } else {
          if (d === '{') depth++;
          else if (d === '}') depth--;
          i++;
        }
      }
    } else i++;
  }
  return i;
}

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
/** Tokens after which a value has ended: `as`, `!` and a `<` of type arguments may follow. */
const ends = (t: Token | undefined) => !!t && (t.kind === 'id' || t.kind === 'lit' || t.text === ')' || t.text === ']' || t.text === '}');
/** Tokens after which a `{` in a return type starts an object type, not the function's body. */
const TYPE_CONTINUES = new Set([':', '&', '|', '<', ',', '(', '=>', '[']);
/** Words before a `(` that is not a method's parameter list even at the start of a member or block. */
const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'return', 'typeof', 'new', 'await', 'yield', 'else', 'do', 'in', 'of', 'void', 'delete', 'instanceof', 'case', 'throw']);

/** `text` (TypeScript as the emitters write it) without its types. */
export function stripTypes(text: string): string {
  const all = tokenize(text);
  const sig = all.filter((t) => t.kind !== 'ws');
  const match = matchBrackets(sig);
  const cuts: [number, number][] = [];
  const cut = (from: number, to: number) => cuts.push([from, to]);

  /**
   * The index of the first token after the type starting at `j`: at nesting depth 0, a token in
   * `stops`, or a closing bracket of an enclosing group; `<` and `>` nest (type arguments) unless
   * not `angles`. With `bodyBrace`, a `{` that cannot continue the type (a function's body) ends it.
   */
  const typeEnd = (j: number, stops: ReadonlySet<string>, bodyBrace = false, angles = true): number => {
    let depth = 0;
    for (; j < sig.length; j++) {
      const t = sig[j].text;
      if (depth === 0 && stops.has(t)) return j;
      if (depth === 0 && bodyBrace && t === '{' && !TYPE_CONTINUES.has(sig[j - 1].text)) return j;
      if (t === '(' || t === '[' || t === '{' || (angles && t === '<')) depth++;
      else if (t === ')' || t === ']' || t === '}' || (angles && t === '>')) {
        if (depth === 0) return j;
        depth--;
      } else if (angles && (t === '>>' || t === '>>>')) depth -= t.length;
    }
    return j;
  };
  /** The index of the first token after the expression starting at `j` (a parameter's default): `<` and `>` compare there. */
  const expressionEnd = (j: number) => typeEnd(j, new Set([',']), false, false);

  /** Whether the `(` at `i` opens parameters: of a function, of a method, or of an arrow. */
  const isParameters = (i: number, ternary: boolean): boolean => {
    const prev = sig[i - 1];
    const before = sig[i - 2];
    if (prev?.text === 'function' || (prev?.kind === 'id' && before?.text === 'function')) return true;
    const after = sig[match[i] + 1];
    if (after?.text === '=>') return true;
    // A method of an object literal: `name(…) {` or `name(…): T {`, the name starting a member.
    if (prev?.kind === 'id' && !KEYWORDS.has(prev.text) && (before?.text === '{' || before?.text === ',' || ['get', 'set', 'async'].includes(before?.text ?? '')) && (after?.text === '{' || after?.text === ':')) return !ternary || after.text === '{';
    // An arrow with a return type: `(…): T =>`.
    if (after?.text === ':' && !ternary) return sig[typeEnd(match[i] + 2, new Set(['=>', ',', ';', '=']))]?.text === '=>';
    return false;
  };

  /** Strips a parameter list `(` at `i` … `)`, its defaults as expressions; returns the index after `)` (and the return type). */
  const parameters = (i: number): number => {
    const close = match[i];
    let j = i + 1;
    while (j < close) {
      if (sig[j].text === '...') j++;
      if (sig[j].kind !== 'id') {
        // Not a plain parameter (a pattern): none of the emitters writes one; left as it is.
        scan(j, close);
        break;
      }
      j++;
      const optional = sig[j]?.text === '?';
      if (optional || sig[j]?.text === ':') {
        const end = sig[j + (optional ? 1 : 0)]?.text === ':' ? typeEnd(j + (optional ? 2 : 1), new Set([',', '='])) : j + 1;
        cut(sig[j].start, sig[end - 1].end);
        j = end;
      }
      if (sig[j]?.text === '=') {
        const end = expressionEnd(j + 1);
        scan(j + 1, end);
        j = end;
      }
      if (sig[j]?.text === ',') j++;
    }
    j = close + 1;
    if (sig[j]?.text === ':') {
      const end = typeEnd(j + 1, new Set(['=>', ';']), true);
      cut(sig[j].start, sig[end - 1].end);
      j = end;
    }
    return j;
  };

  /** Strips the types in tokens [from, to), an expression or statements. */
  const scan = (from: number, to: number) => {
    // Open `?`s of conditional expressions, one count per bracket depth.
    const ternaries: number[] = [0];
    for (let i = from; i < to; i++) {
      const t = sig[i];
      const prev = sig[i - 1];
      if (t.text === '(' && isParameters(i, ternaries[ternaries.length - 1] > 0)) {
        i = parameters(i) - 1;
        continue;
      }
      if (t.text in OPEN) ternaries.push(0);
      else if (t.text === ')' || t.text === ']' || t.text === '}') ternaries.length > 1 && ternaries.pop();
      else if (t.text === '?') ternaries[ternaries.length - 1]++;
      else if (t.text === ':' && ternaries[ternaries.length - 1] > 0) ternaries[ternaries.length - 1]--;
      else if ((t.text === 'const' || t.text === 'let' || t.text === 'var') && sig[i + 1]?.kind === 'id' && sig[i + 2]?.text === ':') {
        const end = typeEnd(i + 3, new Set(['=', ';', ',']));
        cut(sig[i + 2].start, sig[end - 1].end);
        i = end - 1;
      } else if (t.text === 'as' && ends(prev) && prev.text !== '.' && sig[i + 1] && (sig[i + 1].kind === 'id' || sig[i + 1].text in OPEN)) {
        const end = typeEnd(i + 1, new Set([',', ';', '=', '?', ':', '&&', '||', '??']));
        cut(prev.end, sig[end - 1].end);
        i = end - 1;
      } else if (t.text === '!' && ends(prev) && prev.end === t.start) {
        cut(t.start, t.end);
      } else if (t.text === '<' && prev?.kind === 'id' && prev.end === t.start) {
        const close = typeArguments(sig, i);
        if (close >= 0) {
          cut(t.start, sig[close].end);
          i = close;
        }
      }
    }
  };

  scan(0, sig.length);
  cuts.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [from, to] of cuts) {
    out += text.slice(at, from);
    at = Math.max(at, to);
  }
  return out + text.slice(at);
}

/** For each opening bracket's index, its closing bracket's (unbalanced text: -1). */
function matchBrackets(sig: readonly Token[]): number[] {
  const match = new Array<number>(sig.length).fill(-1);
  const open: number[] = [];
  sig.forEach((t, i) => {
    if (t.text in OPEN) open.push(i);
    else if (t.text === ')' || t.text === ']' || t.text === '}') {
      const o = open.pop();
      if (o !== undefined) match[o] = i;
    }
  });
  return match;
}

/**
 * The index of the `>` that closes type arguments `<…>` opened at `i` and followed by `(` (a
 * call): only names, `.`, `,`, `|`, `&`, `[]` and nested `<…>` inside; otherwise -1 (a comparison).
 */
function typeArguments(sig: readonly Token[], i: number): number {
  let depth = 0;
  for (let j = i; j < sig.length; j++) {
    const t = sig[j].text;
    if (t === '<') depth++;
    else if (t === '>') {
      if (--depth === 0) return sig[j + 1]?.text === '(' ? j : -1;
    } else if (!(sig[j].kind === 'id' || ['.', ',', '|', '&', '[', ']'].includes(t))) return -1;
  }
  return -1;
}
