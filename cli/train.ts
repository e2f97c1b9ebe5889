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
import { loadMnist } from '../runtime/mnist.ts';
import type { Dataset, EpochLog, Evaluation, FitOptions, History } from '../runtime/train-loop.ts';
import { KilnError } from '../src/ir/errors.ts';
import type { Graph } from '../src/ir/graph.ts';
import { formatShape, sampleSize } from '../src/ir/shape.ts';
import { fileStem } from './names.ts';
import { loadModel } from './load.ts';
import { writePredictionsPng } from './png.ts';
import { epochLine, fitCallbackOptions, readTrainerState, reportFit, type FitFlags } from './train-fit.ts';
import { Interrupted } from './errors.ts';
import { runTraining, withStopFlag, type EmittedTrainer } from './train-run.ts';
import { resolveLoss, resolveOptimizer, resolveSchedule, scheduleFunction, type OptimizerFlags, type ScheduleFlags } from './training-spec.ts';

/** Options of `kiln train` (as commander parses them). */
export interface TrainOptions extends FitFlags, OptimizerFlags, ScheduleFlags {
  data: string;
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
  readonly test: Evaluation;
  /** The predictions picture, unless writing it failed (a warning, not a failed run). */
  readonly png?: string;
}

const MNIST_PIXELS = 784;
const MNIST_CLASSES = 10;
const MNIST_TRAIN = 60_000;

/** Throws unless the model reads one MNIST image per sample ([784], [1, 28, 28] or [28, 28, 1]) and outputs 10 classes. */
export function checkMnistModel(graph: Graph): void {
  const input = graph.inputs[0];
  const shape = input ? formatShape(input.type.shape) : '(none)';
  if (graph.inputs.length !== 1 || sampleSize(input.type.shape) !== MNIST_PIXELS) {
    const size = input ? ` (${sampleSize(input.type.shape)} values per sample)` : '';
    throw new KilnError(
      `--data mnist needs a model with one input of 784 values per sample ([784], [1, 28, 28] or [28, 28, 1]); '${graph.name}' takes ${graph.inputs.length === 1 ? `'${String(input.attrs.name)}' ${shape}${size}` : `${graph.inputs.length} inputs`}`,
    );
  }
  const output = graph.outputs[0]?.node.type.shape;
  if (graph.outputs.length !== 1 || !output || output[output.length - 1] !== MNIST_CLASSES) {
    throw new KilnError(`--data mnist needs a model with one output of ${MNIST_CLASSES} classes; '${graph.name}' outputs ${graph.outputs.map((o) => formatShape(o.node.type.shape)).join(', ')}`);
  }
}

/** Labels as the loss reads them: class ids for the sparse loss, one-hot rows otherwise. */
export function mnistLabels(loss: LossSpec, labels: Int32Array): Int32Array | Float32Array {
  if (loss.kind === 'sparseCategoricalCrossEntropy') return labels;
  const oneHot = new Float32Array(labels.length * MNIST_CLASSES);
  labels.forEach((c, i) => (oneHot[i * MNIST_CLASSES + c] = 1));
  return oneHot;
}

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

/** Index of the largest of `n` values starting at `offset`. */
function argmax(values: Float32Array, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}

/** Throws unless the options are in range (before anything is loaded). */
function checkTrainOptions(o: TrainOptions): void {
  if (o.data !== 'mnist') throw new KilnError(`unknown data set '${o.data}' (available: mnist)`);
  for (const [flag, v] of [['--epochs', o.epochs], ['--batch-size', o.batchSize], ['--checkpoint-every', o.checkpointEvery ?? 1]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new KilnError(`${flag} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(o.validation) || o.validation < 0 || o.validation >= MNIST_TRAIN) throw new KilnError(`--validation must be an integer in [0, ${MNIST_TRAIN}), got ${o.validation}`);
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
export async function trainCommand(file: string, o: TrainOptions, print: (s: string) => void, warn = (s: string) => process.stderr.write(`${s}\n`)): Promise<TrainResult> {
  checkTrainOptions(o);
  const { graph, weights } = await loadModel(file);
  checkMnistModel(graph);
  const loss = resolveLoss(graph, o.loss, o.fromLogits);
  const optimizer = resolveOptimizer(o.optimizer, o.lr, o);
  resolveSchedule(o); // its flags checked before the compile, not after
  const backend = o.backend ?? 'js';
  if (backend !== 'js' && backend !== 'gpujs') throw new KilnError(`unknown backend '${backend}' (available: js, gpujs)`);
  if (o.gpu !== undefined && backend !== 'gpujs') throw new KilnError('--gpu applies to --backend gpujs');
  const outputs = checkOutputs(o, o.out ?? path.join('build', fileStem(graph.name)));
  const resume = o.load === undefined ? undefined : readTrainerState(o.load);
  const { trainer, logs, history } = await withStopFlag((stopRequested) => compileAndFit(file, graph, weights, o, outputs, { loss, optimizer, backend, resume }, print, stopRequested, warn));
  if (outputs.save) {
    // Straight after training, before anything optional can fail.
    writeFileAtomicSync(outputs.save, trainer.save());
    print(`saved weights and optimizer state to ${outputs.save}`);
  }

  const t = loadMnist('test');
  const test = trainer.evaluate({ x: t.images, y: mnistLabels(loss, t.labels), count: t.count }, 500);
  const last = logs[logs.length - 1] ?? { loss: NaN };
  const valAccuracy = logs[logs.length - 1]?.valAccuracy;
  if (valAccuracy !== undefined) print(`validation accuracy: ${percent(valAccuracy)} (${o.validation} images)`);
  print(`test accuracy: ${percent(test.accuracy)} (${t.count} MNIST test images, loss ${test.loss.toFixed(4)})`);
  print(`final training loss: ${last.loss}`);

  const shown = 10;
  const probs = trainer.predict(t.images.subarray(0, shown * MNIST_PIXELS), shown);
  const predicted = Array.from({ length: shown }, (_, i) => argmax(probs, i * MNIST_CLASSES, MNIST_CLASSES));
  let png: string | undefined = outputs.png;
  try {
    writePredictionsPng(png, t.images, predicted, Array.from(t.labels.subarray(0, shown)));
    print(`wrote ${png} (first ten test digits: predicted/true)`);
  } catch (e) {
    warn(`warning: no predictions picture: ${(e as Error).message}`);
    png = undefined;
  }
  return { model: graph.name, save: outputs.save, logs, history, finalLoss: last.loss, valAccuracy, test, png };
}

/** Compiles the trainer and fits it (stopping on request, with checkpoints); throws Interrupted when stopped. */
async function compileAndFit(
  file: string,
  graph: Graph,
  weights: Readonly<Record<string, Float32Array>> | undefined,
  o: TrainOptions,
  outputs: Outputs,
  spec: { loss: LossSpec; optimizer: OptimizerSpec; backend: 'js' | 'gpujs'; resume?: Uint8Array },
  print: (s: string) => void,
  stopRequested: () => boolean,
  warn: (s: string) => void,
): Promise<{ trainer: EmittedTrainer; logs: EpochLog[]; history: History }> {
  const { loss, optimizer } = spec;
  const compiled = await compileTrainer(graph, { loss, optimizer }, outputs.out, o.seed, path.relative(process.cwd(), path.resolve(file)), weights, { backend: spec.backend, gpu: o.gpu }, spec.resume);
  const where = compiled.trainer.backend ? `, GPU.js backend ${compiled.trainer.backend}` : '';
  print(`compiled ${graph.name} with training (${optimizer.kind}, lr ${optimizer.lr}, ${loss.kind}${loss.fromLogits ? ' from logits' : ''}) in ${compiled.ms.toFixed(0)} ms: ${compiled.file}${where}`);

  const trainCount = Math.min(o.limit ?? MNIST_TRAIN, MNIST_TRAIN - o.validation);
  const train = loadMnist('train', { limit: trainCount });
  const trainData: Dataset = { x: train.images, y: mnistLabels(loss, train.labels), count: train.count };
  let validationData: Dataset | undefined;
  if (o.validation > 0) {
    const v = loadMnist('train', { offset: MNIST_TRAIN - o.validation });
    validationData = { x: v.images, y: mnistLabels(loss, v.labels), count: v.count };
  }
  print(`training on ${train.count} MNIST images${validationData ? `, validating on the last ${validationData.count}` : ''}: ${o.epochs} epoch${o.epochs === 1 ? '' : 's'} of batch ${o.batchSize}, seed ${o.seed}`);
  let checkpointed: number | undefined;
  if (spec.resume) print(`resuming from ${o.load}: step ${compiled.trainer.steps}, epoch ${compiled.trainer.epochs}${compiled.trainer.epochBatch ? ` and ${compiled.trainer.epochBatch} batches` : ''}`);
  const progress = progressReporter(compiled.trainer.epochs + o.epochs, train.count, o.batchSize, print);
  const { checkpoint } = outputs;
  const run = await runTraining(compiled.trainer, trainData, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    seed: o.seed,
    schedule: scheduleFunction(resolveSchedule(o)),
    validationData,
    ...progress,
    ...fitCallbackOptions(o),
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
