// The `kiln` command line: parses arguments and runs a command; errors become one-line messages (cli/errors.ts).
// Each command's code is imported when that command runs, so `--version` and `--help` load almost
// nothing (commander, this file, the version); keep static imports here light.
import { Command, InvalidArgumentError } from 'commander';
import { EXIT, reportFailure } from './errors.ts';
import { COMPILER_VERSION } from '../src/version.ts';
import { parseInputShapes, setOnnxInputShapes } from './input-shapes.ts';
import { failureJson, jsonRequest, toJson, trainJson, usageJson } from './json-output.ts';
import { stageLine } from './stages.ts';
import { parseSize, setLimits } from '../src/ir/limits.ts';

const integer = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
};
const number = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
};

const size = (v: string) => {
  try {
    return parseSize(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

/** What the actions report back to main(): an exit status other than 0 without an error (conformance failures). */
interface RunState {
  status: number;
}

const stderrLine = (t: string) => process.stderr.write(t.endsWith('\n') ? t : t + '\n');

/** A command that loads a model: every such command takes the ONNX input sizes and the memory limit. */
function modelCommand(cli: Command, nameAndArgs: string): Command {
  return cli
    .command(nameAndArgs)
    .option('--input-shape <name=dims...>', 'ONNX: sizes of symbolic input dimensions, e.g. tokens=N,32 (N: the batch)')
    .option('--max-memory <size>', 'refuse models needing more than this at batch 1 (parameters + activations), e.g. 8GB, 512MB (default 4GB)', size);
}

/** The optimizer settings' and clipping flags (cli/training-spec.ts resolveOptimizer reads them); `when` prefixes their help. */
function optimizerFlags(c: Command, when: string): Command {
  return c
    .option('--weight-decay <λ>', `${when}weight decay (sgd, adam, rmsprop, adagrad: added to the gradient; adamw: decoupled, default 0.01)`, number)
    .option('--nesterov', `${when}Nesterov momentum (sgd, with --momentum)`)
    .option('--dampening <d>', `${when}momentum dampening (sgd)`, number)
    .option('--beta1 <β>', `${when}first-moment decay (adam, adamw; default 0.9)`, number)
    .option('--beta2 <β>', `${when}second-moment decay (adam, adamw; default 0.999)`, number)
    .option('--epsilon <ε>', `${when}denominator term (adam, adamw, rmsprop: default 1e-8; adagrad: 1e-10)`, number)
    .option('--amsgrad', `${when}AMSGrad: the running maximum of the second moment (adam, adamw)`)
    .option('--alpha <α>', `${when}square-average decay (rmsprop; default 0.99)`, number)
    .option('--centered', `${when}centered RMSprop: divide by the gradient's estimated variance (rmsprop)`)
    .option('--lr-decay <η>', `${when}learning-rate decay per step (adagrad)`, number)
    .option('--initial-accumulator <v>', `${when}starting value of the squared-gradient sum (adagrad)`, number)
    .option('--clip-norm <n>', `${when}scale all gradients so their global 2-norm is at most n (clip_grad_norm_)`, number)
    .option('--clip-value <v>', `${when}clamp every gradient element to [-v, v] (clip_grad_value_)`, number);
}

/** `kiln train`'s learning-rate schedule flags (cli/training-spec.ts resolveSchedule reads them). */
function scheduleFlags(c: Command): Command {
  return c
    .option('--schedule <kind>', 'learning-rate schedule: none | step | exponential | cosine', 'none')
    .option('--step-size <epochs>', 'with --schedule step: decay every this many epochs', integer)
    .option('--gamma <γ>', 'with --schedule step (default 0.1) or exponential: the decay factor', number)
    .option('--t-max <epochs>', 'with --schedule cosine: the half period in epochs (default --epochs, plus the epochs of a --load)', number)
    .option('--eta-min <lr>', 'with --schedule cosine: the lowest learning rate (default 0)', number)
    .option('--warmup <steps>', 'linear warm-up over this many optimizer steps, before any schedule', integer)
    .option('--warmup-start <factor>', 'with --warmup: the first step\'s fraction of the rate (default 1/3)', number);
}

function program(print: (text: string) => void, state: RunState, writeErr: (s: string) => void): Command {
  const cli = new Command('kiln')
    .description('Kiln: an ahead-of-time neural-network compiler (TypeScript model → specialised JavaScript)')
    .version(COMPILER_VERSION)
    .option('--verbose', 'print the stack trace of any error')
    .exitOverride()
    .configureOutput({ writeOut: print, writeErr });
  // ONNX inputs with symbolic dimensions: sizes for every command that loads a model.
  cli.hook('preAction', (_, action) => setOnnxInputShapes(parseInputShapes(action.opts().inputShape as string[] | undefined)));
  // Memory limit (--max-memory) for every command that loads a model: check refuses models past it.
  cli.hook('preAction', (_, action) => setLimits({ maxMemory: action.opts().maxMemory as number | undefined }));
  optimizerFlags(modelCommand(cli, 'compile <model>'), 'with --train: ')
    .description('compile a model file into an ES module (<name>.mjs), its types (<name>.d.mts) and a weight file')
    .option('--backend <backend>', 'code generator: js (JavaScript loops) | gpujs (GPU.js kernels)', 'js')
    .option('--out <dir>', 'output folder', 'build')
    .option('--seed <n>', 'initialiser seed of the emitted weights', integer, 0)
    .option('--inline-weights', 'embed the weights in the module as well')
    .option('--standalone', 'bundle the runtime functions it uses into the module: it imports nothing (gpujs: only gpu.js)')
    .option('--runtime-import <specifier>', 'how the module imports the runtime', 'kiln/runtime')
    .option('--train', 'also compile the training step: the module exports createTrainer')
    .option('--optimizer <kind>', 'with --train: adam | sgd | adamw | rmsprop | adagrad', 'adam')
    .option('--lr <rate>', 'with --train: the default learning rate', number, 1e-3)
    .option('--momentum <m>', 'with --train: momentum (sgd, rmsprop)', number)
    .option('--loss <kind>', 'with --train: auto | mse | binaryCrossEntropy | categoricalCrossEntropy | sparseCategoricalCrossEntropy', 'auto')
    .option('--from-logits', 'with --train: the model outputs logits')
    .option('--json', 'print one JSON object (what was compiled, the files written) instead of text')
    .action(async (model, o) => {
      const { compileFiles, formatCompileReport } = await import('./commands.ts');
      const stage = stageLine();
      try {
        const r = await compileFiles(model, o, stage);
        stage.done();
        print(o.json ? toJson({ ok: true, command: 'compile', ...r }) : formatCompileReport(r));
      } finally {
        stage.done();
      }
    });
  modelCommand(cli, 'export <model>')
    .description('export a model and its weights to an ONNX file')
    .requiredOption('--onnx <file>', 'the .onnx file to write')
    .option('--weights <file>', 'a Kiln weight file (default: fresh weights from --seed, as kiln compile writes)')
    .option('--seed <n>', 'initialiser seed when no --weights is given', integer, 0)
    .option('--opset <n>', 'ONNX opset (13 to 22)', integer, 17)
    .action(async (model, o) => print(await (await import('./export.ts')).exportCommand(model, o)));
  modelCommand(cli, 'check <model>')
    .description('shape-check a model; exits 1 naming the layer, shapes and line on a mismatch')
    .option('--json', 'print one JSON object (model, layers, parameters, outputs) instead of text')
    .action(async (model, o) => {
      const { checkModel, formatCheckReport } = await import('./check.ts');
      const r = await checkModel(model);
      print(o.json ? toJson({ ok: true, command: 'check', ...r }) : formatCheckReport(r));
    });
  modelCommand(cli, 'summary <model>')
    .description('a table of layers: op, output shape, parameters, FLOPs per sample')
    .option('--json', 'machine-readable output')
    .option('--train', 'also plan the training step (for --optimizer) and report its memory')
    .option('--batch <n>', 'batch size of the activation and memory figures (default: 64; 1 for an ONNX model compiled per sample)', integer)
    .option('--optimizer <kind>', 'with --train: the optimizer whose state is planned (adam | sgd | adamw | rmsprop | adagrad)', 'adam')
    .action(async (model, o) => print(await (await import('./commands.ts')).summaryCommand(model, !!o.json, !!o.train, { batch: o.batch, optimizer: o.optimizer })));
  modelCommand(cli, 'ir <model>')
    .description('print the graph IR (input, optimized, kernels, json) or after one pass')
    .option('--stage <stage>', 'input | optimized | kernels (JavaScript) | wasm (SIMD kernels as text) | wgsl (contraction kernels as WebGPU compute shaders) | json', 'input')
    .option('--after <pass>', 'print the IR after this pass')
    .action(async (model, o) => print(await (await import('./commands.ts')).irCommand(model, o.stage, o.after)));
  modelCommand(cli, 'fusion <model>')
    .description('list the fused kernels: the ops each computes and the layers they came from')
    .action(async (model) => print(await (await import('./commands.ts')).fusionCommand(model)));
  modelCommand(cli, 'inspect <model>')
    .description('the graph at a stage with its layers, fused kernels and memory (a model file, .onnx, or an emitted module\'s manifest)')
    .option('--format <format>', 'text | json | dot | mermaid | html', 'text')
    .option('--after <pass>', 'the graph after this pass, or input (default: after every pass)')
    .option('--train', 'also describe the training step (forward, backward, optimizer)')
    .option('--optimizer <kind>', 'with --train: adam | sgd | adamw | rmsprop | adagrad', 'adam')
    .option('--loss <kind>', 'with --train: the loss (default auto)', 'auto')
    .option('--batch <n>', 'batch size of the memory figures', integer, 64)
    .option('--sources', 'json: include each kernel\'s emitted source (JS, WebAssembly text, GPU.js)')
    .option('--profile', 'also run the model (as kiln profile, at --batch) and show time per kernel and layer: html, json (a profile field) or text')
    .option('--out <file>', 'write to this file (atomically) instead of stdout')
    .action(async (model, o) => print(await (await import('./inspect.ts')).inspectCommand(model, o)));
  modelCommand(cli, 'diff <a> [b]')
    .description('how two models (or one model after two passes, --after A --after B) differ: nodes, shapes, parameters, kernels')
    .option('--after <pass>', 'compare the graph after this pass; give it twice to compare two passes of one model', (v: string, all: string[] = []) => [...all, v])
    .option('--json', 'print one JSON object instead of text')
    .action(async (a, b, o) => print(await (await import('./diff.ts')).diffCommand(a, b, o)));
  modelCommand(cli, 'profile <model>')
    .description('compile with per-kernel timing, run warm calls and report time per kernel and per layer (share, GFLOP/s)')
    .option('--train', 'profile the training step instead of predict')
    .option('--batch <n>', 'batch size of the profiled calls', integer, 32)
    .option('--backend <backend>', 'code generator: js | gpujs (GPU.js in its cpu or webasm mode)', 'js')
    .option('--gpu-mode <mode>', 'with --backend gpujs: cpu | webasm (WebGL kernels run pipelined: not timeable per kernel)')
    .option('--runs <n>', 'warm calls measured (after 2 untimed ones)', integer, 10)
    .option('--optimizer <kind>', 'with --train: adam | sgd | adamw | rmsprop | adagrad', 'adam')
    .option('--loss <kind>', 'with --train: the loss (auto: from the output)', 'auto')
    .option('--json', 'print the report as one JSON object')
    .option('--format <format>', 'text | json | html (the inspection report with the times; needs --out)', 'text')
    .option('--out <file>', 'write to this file (atomically) instead of stdout')
    .action(async (model, o) => print(await (await import('./profile.ts')).profileCommand(model, o)));
  scheduleFlags(optimizerFlags(modelCommand(cli, 'train <model>'), ''))
    .description('compile a model with a training step, train it on MNIST, IDX or CIFAR-10 folders or your own .npy/.csv/.json arrays, and report')
    .option('--data <name|path>', 'mnist (default without a data() export in the model file), an MNIST-layout IDX folder, a CIFAR-10 binary folder, or inputs as .npy/.csv/.json')
    .option('--labels <file>', 'with --data <file>: the labels (.npy/.csv/.json; class ids or rows of targets)')
    .option('--test-data <file>', 'test inputs (.npy/.csv/.json) evaluated after training')
    .option('--test-labels <file>', 'labels of --test-data')
    .option('--validation-split <fraction>', 'hold out this fraction of the training samples (the last ones) for validation', number)
    .option('--validation-data <file>', 'validation inputs (.npy/.csv/.json)')
    .option('--validation-labels <file>', 'labels of --validation-data')
    .option('--scale <k>', 'multiply inputs by k, e.g. 1/255 (default 1/255 for uint8 IDX and CIFAR images, else 1)')
    .option('--normalize <mean,std>', 'then (x - mean) / std; per channel m1,m2,m3/s1,s2,s3')
    .option('--stream', 'read a .npy or CIFAR training set in chunks instead of loading it (automatic above 1 GiB of float32 inputs)')
    .option('--epochs <n>', 'passes over the training images', integer, 1)
    .option('--batch-size <n>', 'samples per optimizer step', integer, 64)
    .option('--optimizer <kind>', 'adam | sgd | adamw | rmsprop | adagrad', 'adam')
    .option('--lr <rate>', 'learning rate', number, 1e-3)
    .option('--momentum <m>', 'momentum (sgd, rmsprop)', number)
    .option('--loss <kind>', 'auto | mse | binaryCrossEntropy | categoricalCrossEntropy | sparseCategoricalCrossEntropy', 'auto')
    .option('--from-logits', 'the model outputs logits (auto: unless it ends in softmax/logSoftmax)')
    .option('--seed <n>', 'seed of the initial weights and of the shuffling', integer, 0)
    .option('--limit <k>', 'train on the first k images only (quick runs)', integer)
    .option('--validation <v>', 'hold out the last v training images for validation', integer, 0)
    .option('--save <file>', 'write the trained weights and optimizer state (right after training, atomically)')
    .option('--checkpoint-every <epochs>', 'write the trainer state to --save (or <out>/checkpoint.bin) after every N-th epoch', integer)
    .option('--checkpoint-steps <n>', 'also write the trainer state after every N-th optimizer step', integer)
    .option('--checkpoint-best <metric>', 'also write the trainer state on each new best of a figure (e.g. valAccuracy, valLoss)')
    .option('--load <file>', 'resume from a saved trainer state (--save or a checkpoint): weights, optimizer state, step, epoch, shuffling; --epochs more epochs')
    .option('--metrics <list>', 'metrics per epoch, comma-separated: accuracy, top5Accuracy, binaryAccuracy, mse, mae (default: accuracy)')
    .option('--history <file>', 'write the per-epoch history (losses, metrics, learning rates) as JSON')
    .option('--curves <file>', 'draw the learning curves (loss and metrics per epoch, training and validation) as a PNG')
    .option('--early-stop <patience>', 'stop when --monitor has not improved for this many epochs', integer)
    .option('--monitor <figure>', 'what --early-stop, --reduce-lr-on-plateau watch: loss, valLoss, accuracy, valAccuracy, … (default valLoss with --validation, else loss)')
    .option('--min-delta <d>', 'smallest change of --monitor that counts as improvement', number)
    .option('--restore-best', 'with --early-stop: put back the weights of the best epoch when stopping')
    .option('--reduce-lr-on-plateau <patience>', 'multiply the learning rate by --lr-factor when --monitor has not improved for this many epochs', integer)
    .option('--lr-factor <f>', 'with --reduce-lr-on-plateau: the factor (default 0.1)', number)
    .option('--min-lr <lr>', 'with --reduce-lr-on-plateau: the lowest learning rate', number)
    .option('--png <file>', 'picture of the first ten test digits with predictions (default <out>/predictions.png)')
    .option('--out <dir>', 'output folder of the compiled module (default build/<model>)')
    .option('--backend <backend>', 'code generator: js | gpujs', 'js')
    .option('--gpu <mode>', 'with --backend gpujs: the GPU.js backend to demand (webasm | cpu | headlessgl)')
    .option('--json', 'print one JSON object (epochs, losses, accuracies, files) on stdout; progress goes to stderr')
    .action(async (model, o, cmd: Command) => {
      const { trainCommand } = await import('./train.ts');
      // Options from the command line (not commander's defaults) win over the model file's `training` export.
      const explicit = new Set(Object.keys(o).filter((k) => ['cli', 'env'].includes(cmd.getOptionValueSource(k) ?? '')));
      const r = await trainCommand(model, { ...o, explicit }, o.json ? stderrLine : print);
      if (o.json) print(toJson(trainJson(r)));
    });
  modelCommand(cli, 'predict <model>')
    .description('compile a model in memory, load its weights and predict an input file (.npy, .csv, .json); write or print the outputs')
    .option('--weights <file>', "a weight file (kiln compile, kiln train --save; a trainer state gives its weights); by default an ONNX file's own")
    .requiredOption('--input <file>', 'the samples: .npy, .csv (one sample a row) or .json (nested arrays)')
    .option('--output <file>', 'write the outputs here (.npy, .csv or .json, atomically) instead of printing them')
    .option('--top-k <k>', 'classifiers: the k most probable classes of each sample, with their probabilities', integer)
    .option('--batch-size <n>', 'samples per model call', integer, 64)
    .option('--scale <factor>', 'multiply inputs by this, as in training (default 1)')
    .option('--normalize <mean,std>', 'then (x - mean) / std, as in training: mean,std or per channel m1,m2,m3/s1,s2,s3')
    .option('--json', 'print one JSON object (shapes, values or the file written, top-k) instead of text')
    .action(async (model, o) => {
      const { predictCommand, formatPredictReport } = await import('./predict.ts');
      const r = await predictCommand(model, o);
      print(o.json ? toJson({ ok: true, command: 'predict', ...r }) : formatPredictReport(r));
    });
  modelCommand(cli, 'evaluate <model>')
    .description('compile a model in memory, load its weights and report its loss and metrics on data and labels')
    .option('--weights <file>', "a weight file (kiln compile, kiln train --save; a trainer state gives its weights); by default an ONNX file's own")
    .requiredOption('--data <data>', 'mnist, an IDX or CIFAR-10 folder (their test split), or samples in a .npy, .csv (one sample a row) or .json file')
    .option('--labels <file>', 'with a --data file: its labels, class ids (sparse losses) or targets, .npy, .csv or .json')
    .option('--scale <factor>', 'multiply inputs by this, as in training (default 1; 1/255 for IDX and CIFAR-10 bytes)')
    .option('--normalize <mean,std>', 'then (x - mean) / std, as in training: mean,std or per channel m1,m2,m3/s1,s2,s3')
    .option('--loss <kind>', 'auto | mse | binaryCrossEntropy | categoricalCrossEntropy | sparseCategoricalCrossEntropy', 'auto')
    .option('--from-logits', 'the model outputs logits (auto: unless it ends in softmax/logSoftmax)')
    .option('--metrics <list>', 'comma-separated: accuracy, top<k>Accuracy (e.g. top5Accuracy), binaryAccuracy, mse, mae', (v: string, all: string[] = []) => [...all, v])
    .option('--batch-size <n>', 'samples per evaluation call', integer, 256)
    .option('--json', 'print one JSON object (loss, accuracy, metrics) instead of text')
    .action(async (model, o) => {
      const { evaluateCommand, formatEvaluateReport } = await import('./evaluate.ts');
      const r = await evaluateCommand(model, o);
      print(o.json ? toJson({ ok: true, command: 'evaluate', ...r }) : formatEvaluateReport(r));
    });
  cli
    .command('precompile <module>')
    .description('export the kernels of a --backend gpujs module with their WebGL2 shaders (headless Chromium), for { precompiled }')
    .option('--batch <n>', 'the batch size the exported kernels run at', integer, 1)
    .option('--out <file>', 'output JSON (default <module>.webgl2.b<batch>.json)')
    .action(async (module, o) => {
      print(`wrote ${await (await import('./browser/precompile.ts')).precompileCommand(module, o)}`);
    });
  cli
    .command('demo-browser')
    .description('build a page that trains the MNIST CNN on WebGL2 (GPU.js) and classifies drawn digits; serve it on 127.0.0.1')
    .option('--out <dir>', 'output folder', 'build/demo-browser')
    .option('--port <n>', 'port on 127.0.0.1', integer, 8080)
    .option('--build-only', 'build the page without serving it')
    .action(async (o) => {
      await (await import('./demo-browser.ts')).demoBrowserCommand(o, print);
    });
  cli
    .command('demo')
    .description('compile examples/cnn.ts with training, train it on MNIST, print its test accuracy and a predictions PNG')
    .option('--epochs <n>', 'passes over the 60,000 training images', integer, 1)
    .action(async (o) => {
      await (await import('./demo.ts')).demo(print, { epochs: o.epochs });
    });
  cli
    .command('conformance [dir]')
    .description('run ONNX node-test cases (model.onnx + test_data_set_0) through import, compile and run; default dir ../shared/onnx-node-tests')
    .option('--backend <backend>', 'code generator: js | gpujs', 'js')
    .option('--gpu <mode>', 'with --backend gpujs: the GPU.js backend (webasm | cpu)')
    .option('--only <cases>', 'only these cases, comma-separated (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--out <dir>', 'folder of the emitted modules (inside this package, so kiln/runtime resolves)')
    .option('--json', 'print one JSON object (counts and every case) instead of a line per case')
    .action(async (dir: string | undefined, o) => {
      const { conformanceRun, formatResult, formatSummary } = await import('./conformance/command.ts');
      const r = await conformanceRun(dir, o, o.json ? undefined : (c) => print(formatResult(c)));
      print(o.json ? toJson({ ok: r.failed === 0, command: 'conformance', ...r }) : formatSummary(r.results));
      if (r.failed > 0) state.status = EXIT.error;
    });
  return cli;
}

/** Runs the CLI; returns the exit code. With `--json` (check, compile, train, conformance, summary) failures are JSON on stdout too. */
export async function main(argv: string[], print = (t: string) => process.stdout.write(t.endsWith('\n') ? t : t + '\n')): Promise<number> {
  // Read from argv itself: a failure can come before (or instead of) commander's parse.
  const verbose = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--verbose');
  const { command, json } = jsonRequest(argv);
  let usage = '';
  const writeErr = json ? (s: string) => void (usage += s) : (s: string) => void process.stderr.write(s);
  const state: RunState = { status: 0 };
  try {
    await program(print, state, writeErr).parseAsync(argv, { from: 'user' });
    return state.status;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // commander already printed the problem (or, with --json, handed it to writeErr).
      if (json) print(toJson(usageJson(command, usage)));
      return EXIT.usage;
    }
    if (!json) return reportFailure(e, verbose, (t) => process.stderr.write(t));
    const failure = failureJson(command, e);
    print(toJson(failure));
    if (verbose || failure.error.kind === 'internal') reportFailure(e, true, (t) => process.stderr.write(t));
    return failure.exitCode;
  }
}
