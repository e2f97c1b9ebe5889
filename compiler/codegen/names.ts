// Making model-provided names safe in generated source: identifiers, string literals, comments.

/** A valid JS identifier derived from any string (never a keyword: always prefixed). */
export function safeIdentifier(name: string, prefix = '_'): string {
  return prefix + name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 64);
}

/**
 * Characters that make V8 keep a whole source file as two-byte text (anything above U+00FF):
 * twice the memory and a slower scanner (cnn2's module with the `→` of its comments imported 0.3
 * ms slower, with 18 more page faults). Emitted sources keep to Latin-1.
 */
const WIDE = /[\u0100-\uffff]/g;

/** `\uXXXX` for one UTF-16 unit. */
const unitEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A string literal that evaluates to exactly `name` (JSON escaping covers quotes and newlines; U+2028, U+2029 and every other wide character escaped). */
export function stringLiteral(name: string): string {
  return JSON.stringify(name).replace(WIDE, unitEscape);
}

/** Text safe inside a comment: no comment terminators, no line breaks, no control characters; `→` as `->`, other wide characters as `\uXXXX`. */
export function commentSafe(text: string): string {
  return text
    .replace(/\*\//g, '* /')
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ')
    .replace(/\u2192/g, '->')
    .replace(WIDE, unitEscape)
    .slice(0, 200);
}
