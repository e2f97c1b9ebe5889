// `kiln conformance [dir]`: runs ONNX node-test cases, one line per case and a summary (or one JSON object).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { KilnError } from '../../src/ir/errors.ts';
import { formatResult, formatSummary, runConformance, BACKENDS, REPO_ROOT, type Backend, type CaseResult } from './run.ts';

export interface ConformanceCliOptions {
  backend: string;
  gpu?: string;
  /** Case names, comma-separated within a value and across repeated values. */
  only?: string[];
  out?: string;
}

/** The ONNX node tests beside a checkout (`../shared/onnx-node-tests`), used when no folder is given. */
export const DEFAULT_CASES = path.resolve(REPO_ROOT, '..', 'shared', 'onnx-node-tests');

/** What a run found (the `--json` output, less `ok` and `command`). */
export interface ConformanceReport {
  readonly dir: string;
  readonly backend: Backend;
  readonly passed: number;
  readonly failed: number;
  readonly unsupported: number;
  readonly results: readonly CaseResult[];
}

/** Runs the cases under `dir`; `onResult` hears each case as it finishes. */
export async function conformanceRun(dir: string | undefined, o: ConformanceCliOptions, onResult: (r: CaseResult) => void = () => {}): Promise<ConformanceReport> {
  if (!(BACKENDS as readonly string[]).includes(o.backend)) throw new KilnError(`unknown backend '${o.backend}' (available: ${BACKENDS.join(', ')})`);
  const folder = dir ?? DEFAULT_CASES;
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new KilnError(dir === undefined ? `no folder of ONNX node tests given, and ${DEFAULT_CASES} does not exist: kiln conformance <dir>` : `no such folder: ${dir}`);
  }
  const only = o.only?.flatMap((v) => v.split(',')).filter(Boolean);
  const backend = o.backend as Backend;
  const results = await runConformance(folder, { backend, gpu: o.gpu, only, outDir: o.out === undefined ? undefined : path.resolve(o.out), onResult });
  const count = (s: CaseResult['status']) => results.filter((r) => r.status === s).length;
  return { dir: folder, backend, passed: count('pass'), failed: count('fail'), unsupported: count('unsupported'), results };
}

export { formatResult, formatSummary };
