// Errors a user can see: each says what was wrong, where, and what was expected.
import type { SourceLoc } from './source-loc.ts';

/**
 * Base class of every error Kiln raises on bad input (not on its own bugs). Its message is one
 * line whatever names it quotes: a file may name a layer or an input "a\nb", and a terminal or
 * a log reader must not take the rest for another message.
 */
export class KilnError extends Error {
  override name = 'KilnError';
  constructor(message: string, options?: ErrorOptions) {
    super(oneLine(message), options);
  }
}

/** Control characters (line breaks among them) escaped as JSON writes them. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** Where in the user's model a failing node came from. */
export interface ErrorSite {
  layer?: string;
  op: string;
  source?: SourceLoc;
}

export function formatSite(site: ErrorSite): string {
  const where = site.source ? ` at ${site.source.file}:${site.source.line}:${site.source.column}` : '';
  const layer = site.layer ? `layer '${site.layer}' ` : '';
  return `${layer}(${site.op})${where}`;
}

/** A shape or dtype mismatch, raised while inferring a node's output type. */
export class ShapeError extends KilnError {
  override name = 'ShapeError';
  constructor(
    readonly site: ErrorSite,
    readonly detail: string,
  ) {
    super(`${formatSite(site)}: ${detail}`);
  }
}

/** Raised by op rules; the graph builder turns it into a ShapeError that names the layer. */
export class RuleError extends Error {
  override name = 'RuleError';
}

/** An operation the IR does not know, or an attribute it cannot accept. */
export class UnsupportedError extends KilnError {
  override name = 'UnsupportedError';
}

/** A broken compiler invariant: a bug in Kiln, never the user's fault. */
export function internal(message: string): never {
  throw new Error(`internal: ${message}`);
}
