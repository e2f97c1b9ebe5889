// A model file's `training` export: defaults for `kiln train` of that model (epochs, batch size,
// optimizer, loss, metrics, …), checked key by key; a flag given on the command line wins.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { KilnError } from '../../src/ir/errors.ts';

/** What a key's value must be. */
type Kind = 'count' | 'integer' | 'number' | 'positive' | 'string' | 'boolean' | 'metrics' | 'scale';

/**
 * The keys a `training` export may set, named as `kiln train`'s options (camelCase of the flag:
 * batchSize ↔ --batch-size). Files and folders (--data, --save, --out, …) are not defaults of a
 * model: they stay flags.
 */
const KEYS: Readonly<Record<string, Kind>> = {
  epochs: 'count',
  batchSize: 'count',
  optimizer: 'string',
  lr: 'positive',
  momentum: 'number',
  loss: 'string',
  fromLogits: 'boolean',
  seed: 'integer',
  metrics: 'metrics',
  limit: 'count',
  validation: 'integer',
  validationSplit: 'number',
  scale: 'scale',
  normalize: 'string',
  weightDecay: 'number',
  nesterov: 'boolean',
  dampening: 'number',
  beta1: 'number',
  beta2: 'number',
  epsilon: 'number',
  amsgrad: 'boolean',
  alpha: 'number',
  centered: 'boolean',
  lrDecay: 'number',
  initialAccumulator: 'number',
  clipNorm: 'number',
  clipValue: 'number',
  schedule: 'string',
  stepSize: 'count',
  gamma: 'number',
  tMax: 'number',
  etaMin: 'number',
  warmup: 'count',
  warmupStart: 'number',
  earlyStop: 'integer',
  monitor: 'string',
  minDelta: 'number',
  restoreBest: 'boolean',
  reduceLrOnPlateau: 'integer',
  lrFactor: 'number',
  minLr: 'number',
};

const EXPECTED: Readonly<Record<Kind, string>> = {
  count: 'a positive integer',
  integer: 'an integer',
  number: 'a finite number',
  positive: 'a positive number',
  string: 'a string',
  boolean: 'true or false',
  metrics: "an array of metric names (e.g. ['accuracy']) or a comma-separated string",
  scale: "a number or a fraction string (e.g. '1/255')",
};

/** Whether `v` is a `kind`. */
function fits(kind: Kind, v: unknown): boolean {
  const finite = typeof v === 'number' && Number.isFinite(v);
  switch (kind) {
    case 'count': return finite && Number.isInteger(v) && (v as number) >= 1;
    case 'integer': return finite && Number.isInteger(v);
    case 'number': return finite;
    case 'positive': return finite && (v as number) > 0;
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'metrics': return typeof v === 'string' || (Array.isArray(v) && v.every((m) => typeof m === 'string'));
    case 'scale': return finite || typeof v === 'string';
  }
}

/** A value as the option holds it (metrics as the comma-separated list --metrics takes). */
const asOption = (kind: Kind, v: unknown): unknown => (kind === 'metrics' && Array.isArray(v) ? v.join(',') : v);

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? JSON.stringify(v) : String(v));

/** Checks a `training` export; returns its values as option values. Throws a KilnError naming `file` and the key. */
export function checkTrainingExport(value: unknown, file: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new KilnError(`${file}: its 'training' export must be an object of kiln train defaults (e.g. { epochs: 20, batchSize: 32 }), got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const kind = KEYS[key];
    if (kind === undefined) throw new KilnError(`${file}: its 'training' export has an unknown key '${key}' (known: ${Object.keys(KEYS).join(', ')})`);
    if (v === undefined) continue;
    if (!fits(kind, v)) throw new KilnError(`${file}: training.${key} must be ${EXPECTED[kind]}, got ${show(v)}`);
    out[key] = asOption(kind, v);
  }
  return out;
}

const SCRIPT = /\.(ts|mts|cts|js|mjs|cjs)$/;

/**
 * The model file's checked `training` export, or undefined. The file was imported by loadModel
 * already (through the model loader's hooks): the same URL returns the cached module.
 */
export async function moduleTrainingExport(file: string): Promise<Record<string, unknown> | undefined> {
  if (!SCRIPT.test(file)) return undefined;
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as { training?: unknown };
  return mod.training === undefined ? undefined : checkTrainingExport(mod.training, file);
}

/** `batchSize` → `--batch-size`. */
const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * `options` with the model's defaults put in: each key of `defaults` replaces the option's value
 * unless the option was given on the command line (`explicit`, the keys commander got from the
 * command line). Without `explicit` (a caller in code), only options that are undefined take the
 * model's value. Returns the merged options and the flags taken from the model, for the run's line.
 */
export function withTrainingDefaults<T extends object>(options: T, defaults: Readonly<Record<string, unknown>>, explicit?: ReadonlySet<string>): { options: T; applied: string[] } {
  const merged: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  const applied: string[] = [];
  for (const [key, v] of Object.entries(defaults)) {
    const given = explicit ? explicit.has(key) : merged[key] !== undefined;
    if (given) continue;
    merged[key] = v;
    applied.push(`${flag(key)} ${String(v)}`);
  }
  return { options: merged as T, applied };
}

/** `o` with the model file's `training` defaults put in (see withTrainingDefaults), printing which it took. */
export async function withModelTraining<T extends { explicit?: ReadonlySet<string> }>(file: string, o: T, print: (s: string) => void): Promise<T> {
  const defaults = await moduleTrainingExport(file);
  if (defaults === undefined) return o;
  const { options, applied } = withTrainingDefaults(o, defaults, o.explicit);
  if (applied.length > 0) print(`defaults from ${file}'s training export: ${applied.join(', ')}`);
  return options;
}
