// Making model-provided names safe in generated source: identifiers, string literals, comments.

/** A valid JS identifier derived from any string (never a keyword: always prefixed). */
export function safeIdentifier(name: string, prefix = '_'): string {
  return prefix + name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 64);
}

/** A string literal that evaluates to exactly `name` (JSON escaping covers quotes, newlines, U+2028). */
export function stringLiteral(name: string): string {
  return JSON.stringify(name).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Text safe inside a comment: no comment terminators, no line breaks, no control characters. */
export function commentSafe(text: string): string {
  return text.replace(/\*\//g, '*\u2215').replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ').slice(0, 200);
}
