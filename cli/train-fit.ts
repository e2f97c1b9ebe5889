// `kiln train`'s fit options from its flags (metrics, early stopping, reduce-on-plateau), the
// epoch line, resuming from a saved state, and the history and curves files after a fit.
import { readFileSync } from 'node:fs';
import type { EpochLog, History } from '../runtime/train-loop.ts';
import { decodeWeights } from '../runtime/weights.ts';
import { KilnError } from '../src/ir/errors.ts';
import { writeCurvesPng } from './curves.ts';
import { writeHistory } from './history.ts';
import type { RunOptions } from './train-run.ts';

/** The flags of `kiln train` that shape the fit. */
export interface FitFlags {
  /** Comma-separated metric names (default: accuracy). */
  metrics?: string;
  /** Write the history as JSON here (atomically). */
  history?: string;
  /** Draw the learning curves here (PNG). */
  curves?: string;
  /** Early stopping: epochs without improvement of --monitor before stopping. */
  earlyStop?: number;
  /** The figure early stopping, reduce-on-plateau and --checkpoint-best watch (default valLoss with validation, else loss). */
  monitor?: string;
  minDelta?: number;
  /** With --early-stop: put back the best epoch's weights when stopping. */
  restoreBest?: boolean;
  /** Reduce-on-plateau: epochs without improvement before multiplying the rate by --lr-factor. */
  reduceLrOnPlateau?: number;
  lrFactor?: number;
  minLr?: number;
  /** Checkpoint every N optimizer steps. */
  checkpointSteps?: number;
  /** Checkpoint on each new best of this figure (e.g. valAccuracy). */
  checkpointBest?: string;
  /** Hold-out size: decides the default monitor. */
  validation: number;
}

/** RunOptions's metrics and callbacks from the flags; throws a KilnError naming a bad flag. */
export function fitCallbackOptions(o: FitFlags): Pick<RunOptions, 'metrics' | 'earlyStopping' | 'reduceLrOnPlateau'> {
  for (const [flag, v] of [['--early-stop', o.earlyStop], ['--reduce-lr-on-plateau', o.reduceLrOnPlateau], ['--checkpoint-steps', o.checkpointSteps]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= (flag === '--checkpoint-steps' ? 1 : 0))) throw new KilnError(`${flag} must be a ${flag === '--checkpoint-steps' ? 'positive' : 'non-negative'} integer, got ${v}`);
  }
  // A setting of a callback that is not asked for would be ignored without a word.
  if (o.restoreBest && o.earlyStop === undefined) throw new KilnError('--restore-best applies with --early-stop <patience>');
  const watching = o.earlyStop !== undefined || o.reduceLrOnPlateau !== undefined;
  for (const [flag, v] of [['--monitor', o.monitor], ['--min-delta', o.minDelta]] as const) {
    if (v !== undefined && !watching) throw new KilnError(`${flag} applies with --early-stop <patience> or --reduce-lr-on-plateau <patience>`);
  }
  // Checked before training, so a long run does not end in a file it cannot write.
  if (o.curves !== undefined && !/\.png$/i.test(o.curves)) throw new KilnError(`--curves writes a PNG image: give a file ending in .png, got '${o.curves}'`);
  for (const [flag, v] of [['--lr-factor', o.lrFactor], ['--min-lr', o.minLr]] as const) {
    if (v !== undefined && o.reduceLrOnPlateau === undefined) throw new KilnError(`${flag} applies with --reduce-lr-on-plateau <patience>`);
  }
  if (o.lrFactor !== undefined && !(o.lrFactor > 0 && o.lrFactor < 1)) throw new KilnError(`--lr-factor must lie in (0, 1), got ${o.lrFactor}`);
  const monitor = o.monitor ?? (o.validation > 0 ? 'valLoss' : 'loss');
  if (/^val/i.test(monitor) && o.validation === 0 && (o.earlyStop !== undefined || o.reduceLrOnPlateau !== undefined || /^val/i.test(o.checkpointBest ?? ''))) {
    throw new KilnError(`--monitor ${monitor} needs validation data (--validation <v>, --validation-split <fraction> or --validation-data <file>)`);
  }
  const metrics = o.metrics?.split(',').map((m) => m.trim()).filter((m) => m !== '');
  return {
    metrics,
    earlyStopping: o.earlyStop === undefined ? undefined : { monitor, patience: o.earlyStop, minDelta: o.minDelta, restoreBestWeights: !!o.restoreBest },
    reduceLrOnPlateau: o.reduceLrOnPlateau === undefined ? undefined : { monitor, patience: o.reduceLrOnPlateau, factor: o.lrFactor ?? 0.1, minDelta: o.minDelta, minLr: o.minLr },
  };
}

const percent = (fraction: number) => `${(100 * fraction).toFixed(2)} %`;
const figure = (name: string, v: number) => (/accuracy/i.test(name) ? percent(v) : v.toFixed(4));

/** One epoch's line: loss, metrics, validation loss and metrics, time and speed. */
export function epochLine(log: EpochLog, epochs: number): string {
  const parts = [`loss ${log.loss.toFixed(4)}`, ...Object.entries(log.metrics ?? {}).map(([k, v]) => `${k} ${figure(k, v)}`)];
  if (log.valLoss !== undefined) parts.push(`val loss ${log.valLoss.toFixed(4)}`);
  if (log.valAccuracy !== undefined) parts.push(`val acc ${percent(log.valAccuracy)}`);
  for (const [k, v] of Object.entries(log.valMetrics ?? {})) if (k !== 'accuracy') parts.push(`val ${k} ${figure(k, v)}`);
  return `epoch ${log.epoch + 1}/${epochs}: ${parts.join(', ')}, ${log.seconds.toFixed(1)} s, ${Math.round(log.samplesPerSecond)} samples/s`;
}

/** The bytes of a saved trainer state (--load); a KilnError names the file when it cannot be read. */
export function readTrainerState(file: string, model?: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new KilnError(`--load ${file}: cannot read the trainer state (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); expected a file written by kiln train --save or a checkpoint`);
  }
  // Checked before the compile: a wrong file is one line naming it, not a missing-tensor error later.
  let meta: Readonly<Record<string, unknown>>;
  try {
    meta = decodeWeights(bytes).meta;
  } catch (e) {
    throw new KilnError(`--load ${file}: ${(e as Error).message}; expected a file written by kiln train --save or a checkpoint`);
  }
  if (typeof meta.steps !== 'number') throw new KilnError(`--load ${file}: a weight file without a trainer state (no step count, e.g. kiln compile's .weights.bin); --load resumes a file written by kiln train --save or a checkpoint`);
  if (model !== undefined && typeof meta.model === 'string' && meta.model !== model) throw new KilnError(`--load ${file}: the trainer state of model '${meta.model}', not of '${model}'`);
  return bytes;
}

/** After a fit (finished, stopped or interrupted): why it stopped, the history file and the curves. */
export function reportFit(history: History, files: { history?: string; curves?: string }, print: (s: string) => void, warn: (s: string) => void): void {
  if (history.stopped && history.stopped.reason !== 'interrupted') print(`stopped after epoch ${history.stopped.epoch + 1}: ${history.stopped.reason}`);
  if (files.history) {
    writeHistory(files.history, history);
    print(`wrote ${files.history} (${history.epochs.length} epoch${history.epochs.length === 1 ? '' : 's'})`);
  }
  if (files.curves && history.epochs.length > 0) {
    try {
      writeCurvesPng(files.curves, history);
      print(`wrote ${files.curves} (learning curves)`);
    } catch (e) {
      warn(`warning: no learning curves: ${(e as Error).message}`);
    }
  }
}
