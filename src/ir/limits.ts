// How much a model may imply before Kiln refuses it: memory, work per sample and node count.
// Tiny files can describe huge models (a 172-byte LSTM over 100,000 steps, a [200000, 200000]
// weight); these limits stop them at check or import time, with the figure, before any work.
import { KilnError } from './errors.ts';

export interface Limits {
  /** Bytes: parameters plus activation memory at batch 1 (`--max-memory`). */
  readonly maxMemory: number;
  /** Floating-point operations per sample. */
  readonly maxFlops: number;
  /** Graph nodes (a scan counts as one, its body apart). */
  readonly maxNodes: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({ maxMemory: 4 * 2 ** 30, maxFlops: 1e12, maxNodes: 1_000_000 });

/** A model, or a part of one, that implies more than a limit allows. */
export class LimitError extends KilnError {
  override name = 'LimitError';
}

let current: Limits = DEFAULT_LIMITS;

/** The limits in force (the CLI's `--max-memory` sets them; `withLimits` scopes them). */
export function getLimits(): Limits {
  return current;
}

/** Sets the limits in force from now on; unset fields keep their defaults. */
export function setLimits(limits: Partial<Limits> = {}): void {
  current = resolveLimits(limits, DEFAULT_LIMITS);
}

/** Runs `f` with some limits changed, restoring the previous ones after. */
export function withLimits<T>(limits: Partial<Limits> | undefined, f: () => T): T {
  if (!limits) return f();
  const outer = current;
  current = resolveLimits(limits, outer);
  try {
    return f();
  } finally {
    current = outer;
  }
}

function resolveLimits(given: Partial<Limits>, base: Limits): Limits {
  const out = { ...base };
  for (const key of ['maxMemory', 'maxFlops', 'maxNodes'] as const) {
    const v = given[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v > 0)) throw new KilnError(`limit ${key} must be a positive number, got ${String(v)}`);
    out[key] = v;
  }
  return Object.freeze(out);
}

const UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** `8GB`, `512MB`, `1.5g`, `4GiB`, `1000000` (bytes) → bytes. Units are binary: 1 GB = 2^30 bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const bytes = m ? Number(m[1]) * UNITS[m[2].toLowerCase()] : NaN;
  if (!m || !(bytes >= 1) || !Number.isFinite(bytes)) throw new KilnError(`a size must look like 8GB, 512MB, 64KB or a number of bytes, got '${text}'`);
  return Math.floor(bytes);
}

/** Bytes for people: `512 B`, `3.2 MiB`, `149 GiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return `${bytes} B`;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : 1;
  return `${Number(v.toFixed(digits)).toLocaleString('en-US')} ${units[u]}`;
}

/** A count with separators: `2,400,000`; very large ones in exponent form. */
export function formatCount(n: number): string {
  return n < 1e15 ? Math.round(n).toLocaleString('en-US') : n.toExponential(2);
}
