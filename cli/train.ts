// `kiln train`: compile a model with a training step, fit it on MNIST, save, report accuracy, draw.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import cliProgress from 'cli-progress';
import { compileModel } from '../compiler/compile.ts';
import { moduleFiles } from '../compiler/emit/files.ts';
import type { LossSpec } from '../compiler/train/losses.ts';
import type { OptimizerSpec } from '../compiler/train/optimizers.ts';
import type { TrainingSpec } from '../compiler/train/step.ts';
import { checkWritableFile, checkWritableFolder, ensureFolderSync, writeFileAtomicSync } from '../runtime/atomic-write.ts';
import type { Dataset, EpochLog, Evaluation, FitOptions, History } from '../runtime/train-loop.ts';
import { KilnError } from '../src/ir/errors.ts';
import type { Graph } from '../src/ir/graph.ts';
import { fileStem } from './names.ts';
import { loadModel } from './load.ts';
import { predictionsPicture, testFigures } from './data/report.ts';
import { describeTraining, loadTrainingData, type DataOptions, type TrainingData } from './data/train-data.ts';
import { withModelTraining } from './data/training-export.ts';
import { epochLine, fitCallbackOptions, readTrainerState, reportFit, type FitFlags } from './train-fit.ts';
import { Interrupted } from './errors.ts';
import { runTraining, withStopFlag, type EmittedTrainer } from './train-run.ts';
import { resolveLoss, resolveOptimizer, resolveSchedule, scheduleFunction, type OptimizerFlags, type ScheduleFlags } from './training-spec.ts';

/** Options of `kiln train` (as commander parses them). */
export interface TrainOptions extends FitFlags, OptimizerFlags, ScheduleFlags, DataOptions {
  epochs: number;
  batchSize: number;
  optimizer: string;
  lr: number;
  momentum?: number;
  loss: string;
  fromLogits?: boolean;
  seed: number;
  limit?: number;
  validation: number;
  save?: string;
  /** Write the trainer's state to --save (or <out>/checkpoint.bin) after every N-th epoch. */
  checkpointEvery?: number;
  /** Resume from a trainer state (--save or a checkpoint): weights, optimizer state, step, epoch, shuffle position. */
  load?: string;
  png?: string;
  out?: string;
  /** Code generator: js (default) or gpujs. */
  backend?: string;
  /** With the gpujs backend: the GPU.js backend to demand (default webasm in Node: no GL context here). */
  gpu?: string;
  /** The options given on the command line: the model file's `training` export sets the others (without this, only undefined ones). */
  explicit?: ReadonlySet<string>;
}

/** What a training run ends with. */
export interface TrainResult {
  readonly model: string;
  /** The trained weights and optimizer state (--save), when written. */
  readonly save?: string;
  readonly logs: EpochLog[];
  /** The fit's history (every epoch; why it stopped early, if it did). */
  readonly history: History;
  readonly finalLoss: number;
  readonly valAccuracy?: number;
  /** The test split's figures, when the data has one. */
  readonly test?: Evaluation;
  /** The predictions picture, unless writing it failed (a warning, not a failed run). */
  readonly png?: string;
}

// Moved to cli/data/mnist.ts; kept here for the scripts and tests that import them from train.ts.
export { checkMnistModel, mnistLabels } from './data/mnist.ts';

/** Where a trainer runs: the code generator, and for gpujs the GPU.js backend to demand. */
export interface TrainerTarget {
  backend?: 'js' | 'gpujs';
  gpu?: string;
}

/** Compiles `graph` with `training` into `out` (`<name>.mjs` and `<name>.d.mts`), imports it and creates a seeded trainer. */
export async function compileTrainer(
  graph: Graph,
  training: TrainingSpec,
  out: string,
  seed: number,
  sourceName?: string,
  initialWeights?: Readonly<Record<string, Float32Array>>,
  target: TrainerTarget = {},
  resume?: Uint8Array,
): Promise<{ trainer: EmittedTrainer; file: string; ms: number }> {
  const started = performance.now();
  const c = compileModel(graph, { seed, training, sourceName, initialWeights, backend: target.backend });
  const ms = performance.now() - started;
  ensureFolderSync(out);
  const stem = fileStem(c.name);
  const names = moduleFiles(stem);
  const file = path.join(out, names.js);
  writeFileAtomicSync(path.join(out, names.dts), c.dts);
  writeFileAtomicSync(file, c.js);
  // The query keeps a second compile in the same process from getting the cached module.
  const url = `${pathToFileURL(path.resolve(file)).href}?hash=${c.graphHash}-${Date.now()}`;
  const mod = (await import(url)) as { createTrainer(options: { seed?: number; weights?: Uint8Array; mode?: string }): EmittedTrainer };
  // The compiled weight file holds any values the model came with (an imported file's).
  const gpu = target.backend === 'gpujs' ? { mode: target.gpu ?? 'webasm' } : {};
  // A saved trainer state resumes whole (weights, optimizer state, step, epoch).
  return { trainer: mod.createTrainer({ seed, weights: resume ?? c.weights, ...gpu }), file, ms };
}

/** Callbacks for `fit` that draw a per-epoch progress bar on a terminal and print one line per epoch. */
export function progressReporter(epochs: number, samples: number, batchSize: number, print: (s: string) => void): Pick<FitOptions, 'onBatch' | 'onEpoch'> & { close(): void } {
  const tty = !!process.stdout.isTTY;
  let bar: cliProgress.SingleBar | undefined;
  let started = 0;
  let lossSum = 0;
  let seen = 0;
  return {
    onBatch({ epoch, batch, batches, loss }) {
      if (!tty) return;
      if (batch === 0) {
        bar = new cliProgress.SingleBar(
          { format: `epoch ${epoch + 1}/${epochs} [{bar}] {percentage}% | loss {loss} | {speed} samples/s | ETA {eta_formatted}`, stream: process.stdout, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(batches, 0, { loss: '-', speed: '-' });
        started = performance.now();
        lossSum = 0;
        seen = 0;
      }
      const n = Math.min(batchSize, samples - batch * batchSize);
      lossSum += loss * n;
      seen += n;
      const seconds = (performance.now() - started) / 1000;
      bar?.update(batch + 1, { loss: (lossSum / seen).toFixed(4), speed: seconds > 0 ? Math.round(seen / seconds) : '-' });
    },
    onEpoch(log) {
      bar?.stop();
      bar = undefined;
      print(epochLine(log, epochs));
    },
    close() {
      bar?.stop();
      bar = undefined;
    },
  };
}

const percent = (fraction: number) => `${(100 * fraction).toFixed(2)} %`;

/** Throws unless the options are in range (before anything is loaded). */
function checkTrainOptions(o: TrainOptions): void {
  for (const [flag, v] of [['--epochs', o.epochs], ['--batch-size', o.batchSize], ['--checkpoint-every', o.checkpointEvery ?? 1]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new KilnError(`${flag} must be a positive integer, got ${v}`);
  }
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) throw new KilnError(`--limit must be a positive integer, got ${o.limit}`);
}

/** Where a run writes: checked before the long work starts, so no trained model is lost to a bad path. */
interface Outputs {
  out: string;
  png: string;
  save?: string;
  checkpoint?: string;
  history?: string;
  curves?: string;
}

function checkOutputs(o: TrainOptions, out: string): Outputs {
  const outputs: Outputs = {
    out,
    png: o.png ?? path.join(out, 'predictions.png'),
    save: o.save,
    checkpoint: o.checkpointEvery === undefined && o.checkpointSteps === undefined && o.checkpointBest === undefined ? undefined : (o.save ?? path.join(out, 'checkpoint.bin')),
    history: o.history,
    curves: o.curves,
  };
  checkWritableFolder(out);
  for (const file of [outputs.save, outputs.checkpoint, outputs.png, outputs.history, outputs.curves]) if (file !== undefined) checkWritableFile(file);
  return outputs;
}

/** `kiln train`: compiles `file` with training, fits it on MNIST, saves, evaluates and draws. */
export async function trainCommand(file: string, flags: TrainOptions, print: (s: string) => void, warn = (s: string) => process.stderr.write(`${s}\n`)): Promise<TrainResult> {
  checkTrainOptions(flags);
  const { graph, weights } = await loadModel(file);
  // The model file's `training` export fills in what the command line did not say.
  const o = await withModelTraining(file, flags, print);
  checkTrainOptions(o);
  const loss = resolveLoss(graph, o.loss, o.fromLogits);
  // Before compiling: a data problem is reported in a second, not after the compile.
  const data = await loadTrainingData(file, graph, loss, o, o.seed);
  const optimizer = resolveOptimizer(o.optimizer, o.lr, o);
  resolveSchedule(o); // its flags checked before the compile, not after
  fitCallbackOptions({ ...o, validation: data.validation?.count ?? 0 }); // so are the callbacks' flags
  const backend = o.backend ?? 'js';
  if (backend !== 'js' && backend !== 'gpujs') throw new KilnError(`unknown backend '${backend}' (available: js, gpujs)`);
  if (o.gpu !== undefined && backend !== 'gpujs') throw new KilnError('--gpu applies to --backend gpujs');
  const outputs = checkOutputs(o, o.out ?? path.join('build', fileStem(graph.name)));
  const resume = o.load === undefined ? undefined : readTrainerState(o.load, graph.name);
  const { trainer, logs, history } = await withStopFlag((stopRequested) => compileAndFit(file, graph, weights, o, outputs, { loss, optimizer, backend, resume, data }, print, stopRequested, warn));
  if (outputs.save) {
    // Straight after training, before anything optional can fail.
    writeFileAtomicSync(outputs.save, trainer.save());
    print(`saved weights and optimizer state to ${outputs.save}`);
  }

  const last = logs[logs.length - 1] ?? { loss: NaN };
  const valAccuracy = logs[logs.length - 1]?.valAccuracy;
  // Per-position labels: the fit's accuracy takes one class a sample (the test line counts positions).
  if (valAccuracy !== undefined && data.positions === 1) print(`validation accuracy: ${percent(valAccuracy)} (${data.validation?.count} samples)`);
  const test = testFigures(trainer, data, print);
  print(`final training loss: ${last.loss}`);
  const png = predictionsPicture(trainer, data, outputs.png, print, warn);
  return { model: graph.name, save: outputs.save, logs, history, finalLoss: last.loss, valAccuracy, test, png };
}

/** Compiles the trainer and fits it (stopping on request, with checkpoints); throws Interrupted when stopped. */
async function compileAndFit(
  file: string,
  graph: Graph,
  weights: Readonly<Record<string, Float32Array>> | undefined,
  o: TrainOptions,
  outputs: Outputs,
  spec: { loss: LossSpec; optimizer: OptimizerSpec; backend: 'js' | 'gpujs'; resume?: Uint8Array; data: TrainingData },
  print: (s: string) => void,
  stopRequested: () => boolean,
  warn: (s: string) => void,
): Promise<{ trainer: EmittedTrainer; logs: EpochLog[]; history: History }> {
  const { loss, optimizer } = spec;
  const compiled = await compileTrainer(graph, { loss, optimizer }, outputs.out, o.seed, path.relative(process.cwd(), path.resolve(file)), weights, { backend: spec.backend, gpu: o.gpu }, spec.resume);
  const where = compiled.trainer.backend ? `, GPU.js backend ${compiled.trainer.backend}` : '';
  print(`compiled ${graph.name} with training (${optimizer.kind}, lr ${optimizer.lr}, ${loss.kind}${loss.fromLogits ? ' from logits' : ''}) in ${compiled.ms.toFixed(0)} ms: ${compiled.file}${where}`);

  const { data } = spec;
  const trainData = data.trainDataset ?? data.train;
  const validationData = data.validation;
  const train = { count: data.train.count };
  print(`${describeTraining(data)}: ${o.epochs} epoch${o.epochs === 1 ? '' : 's'} of batch ${o.batchSize}, seed ${o.seed}`);
  let checkpointed: number | undefined;
  if (spec.resume) print(`resuming from ${o.load}: step ${compiled.trainer.steps}, epoch ${compiled.trainer.epochs}${compiled.trainer.epochBatch ? ` and ${compiled.trainer.epochBatch} batches` : ''}`);
  const progress = progressReporter(compiled.trainer.epochs + o.epochs, train.count, o.batchSize, print);
  const { checkpoint } = outputs;
  const run = await runTraining(compiled.trainer, trainData, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    seed: o.seed,
    // A resumed cosine ends where the whole run ends: T_max defaults to the epochs done plus --epochs.
    schedule: scheduleFunction(resolveSchedule({ ...o, epochs: compiled.trainer.epochs + o.epochs })),
    validationData,
    ...progress,
    // The default monitor is valLoss whenever there is validation data, however it was chosen.
    ...fitCallbackOptions({ ...o, validation: validationData?.count ?? 0 }),
    stopRequested,
    checkpoint:
      checkpoint === undefined
        ? undefined
        : {
            everyEpochs: o.checkpointEvery,
            everySteps: o.checkpointSteps,
            best: o.checkpointBest === undefined ? undefined : { monitor: o.checkpointBest },
            write({ kind, epoch, step }) {
              writeFileAtomicSync(checkpoint, compiled.trainer.save());
              checkpointed = epoch;
              print(`checkpoint ${kind === 'steps' ? `at step ${step}` : `after epoch ${epoch}${kind === 'best' ? ` (best ${o.checkpointBest})` : ''}`}: ${checkpoint}`);
            },
          },
  });
  progress.close();
  reportFit(run.history, { history: outputs.history, curves: outputs.curves }, print, warn);
  if (run.stopped) {
    const kept = checkpointed === undefined ? 'nothing was saved' : `the checkpoint after epoch ${checkpointed} is in ${checkpoint}`;
    throw new Interrupted(`training stopped in epoch ${run.stopped.epoch + 1} at batch ${run.stopped.batch}; ${kept}`);
  }
  return { trainer: compiled.trainer, logs: run.logs, history: run.history };
}
