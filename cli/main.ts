// The `kiln` command line: parses arguments and runs a command; errors become one-line messages (cli/errors.ts).
import { Command, InvalidArgumentError } from 'commander';
import { EXIT, reportFailure } from './errors.ts';
import { COMPILER_VERSION } from '../src/version.ts';
import { demo } from './demo.ts';
import { demoBrowserCommand } from './demo-browser.ts';
import { parseInputShapes, setOnnxInputShapes } from './load.ts';
import { parseSize, setLimits } from '../src/ir/limits.ts';
import { precompileCommand } from './browser/precompile.ts';
import { trainCommand } from './train.ts';
import { exportCommand } from './export.ts';
import { checkCommand, compileCommand, fusionCommand, irCommand, summaryCommand } from './commands.ts';

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

function program(print: (text: string) => void): Command {
  const cli = new Command('kiln')
    .description('Kiln: an ahead-of-time neural-network compiler (TypeScript model → specialised JavaScript)')
    .version(COMPILER_VERSION)
    .option('--verbose', 'print the stack trace of any error')
    .exitOverride()
    .configureOutput({ writeOut: print, writeErr: (s) => process.stderr.write(s) });
  // ONNX inputs with symbolic dimensions: sizes for every command that loads a model.
  cli.hook('preAction', (_, action) => setOnnxInputShapes(parseInputShapes(action.opts().inputShape as string[] | undefined)));
  // Memory limit (--max-memory) for every command that loads a model: check refuses models past it.
  cli.hook('preAction', (_, action) => setLimits({ maxMemory: action.opts().maxMemory as number | undefined }));
  cli
    .command('compile <model>')
    .option('--input-shape <name=dims...>', 'ONNX: sizes of symbolic input dimensions, e.g. tokens=N,32 (N: the batch)')
    .option('--max-memory <size>', 'refuse models needing more than this at batch 1 (parameters + activations), e.g. 8GB, 512MB (default 4GB)', size)
    .description('compile a model file (.ts) into a typed module, its JavaScript and a weight file')
    .option('--backend <backend>', 'code generator: js (JavaScript loops) | gpujs (GPU.js kernels)', 'js')
    .option('--out <dir>', 'output folder', 'build')
    .option('--seed <n>', 'initialiser seed of the emitted weights', integer, 0)
    .option('--inline-weights', 'embed the weights in the module as well')
    .option('--runtime-import <specifier>', 'how the module imports the runtime', 'kiln/runtime')
    .option('--train', 'also compile the training step: the module exports createTrainer')
    .option('--optimizer <kind>', 'with --train: adam | sgd | adamw | rmsprop | adagrad', 'adam')
    .option('--lr <rate>', 'with --train: the default learning rate', number, 1e-3)
    .option('--momentum <m>', 'with --train: momentum (sgd, rmsprop)', number)
    .option('--loss <kind>', 'with --train: auto | mse | binaryCrossEntropy | categoricalCrossEntropy | sparseCategoricalCrossEntropy', 'auto')
    .option('--from-logits', 'with --train: the model outputs logits')
    .action(async (model, o) => print(await compileCommand(model, o)));
  cli
    .command('export <model>')
    .option('--input-shape <name=dims...>', 'ONNX: sizes of symbolic input dimensions, e.g. tokens=N,32 (N: the batch)')
    .option('--max-memory <size>', 'refuse models needing more than this at batch 1 (parameters + activations), e.g. 8GB, 512MB (default 4GB)', size)
    .description('export a model and its weights to an ONNX file')
    .requiredOption('--onnx <file>', 'the .onnx file to write')
    .option('--weights <file>', 'a Kiln weight file (default: fresh weights from --seed, as kiln compile writes)')
    .option('--seed <n>', 'initialiser seed when no --weights is given', integer, 0)
    .option('--opset <n>', 'ONNX opset (13 to 22)', integer, 17)
    .action(async (model, o) => print(await exportCommand(model, o)));
  cli
    .command('check <model>')
    .option('--input-shape <name=dims...>', 'ONNX: sizes of symbolic input dimensions, e.g. tokens=N,32 (N: the batch)')
    .option('--max-memory <size>', 'refuse models needing more than this at batch 1 (parameters + activations), e.g. 8GB, 512MB (default 4GB)', size)
    .description('shape-check a model; exits 1 naming the layer, shapes and line on a mismatch')
    .action(async (model) => print(await checkCommand(model)));
  cli
    .command('summary <model>')
    .option('--input-shape <name=dims...>', 'ONNX: sizes of symbolic input dimensions, e.g. tokens=N,32 (N: the batch)')
    .option('--max-memory <size>', 'refuse models needing more than this at batch 1 (parameters + activations), e.g. 8GB, 512MB (default 4GB)', size)
    .description('a table of layers: op, output shape, parameters, FLOPs per sample')
    .option('--json', 'machine-readable output')
    .option('--train', 'also plan the training step (Adam) and report its memory')
    .action(async (model, o) => print(await summaryCommand(model, !!o.json, !!o.train)));
  cli
    .command('ir <model>')
    .option('--input-shape <name=dims...>', 'ONNX: sizes of symbolic input dimensions, e.g. tokens=N,32 (N: the batch)')
    .option('--max-memory <size>', 'refuse models needing more than this at batch 1 (parameters + activations), e.g. 8GB, 512MB (default 4GB)', size)
    .description('print the graph IR (input, optimized, kernels, json) or after one pass')
    .option('--stage <stage>', 'input | optimized | kernels (JavaScript) | wasm (SIMD kernels as text) | json', 'input')
    .option('--after <pass>', 'print the IR after this pass')
    .action(async (model, o) => print(await irCommand(model, o.stage, o.after)));
  cli
    .command('fusion <model>')
    .option('--input-shape <name=dims...>', 'ONNX: sizes of symbolic input dimensions, e.g. tokens=N,32 (N: the batch)')
    .option('--max-memory <size>', 'refuse models needing more than this at batch 1 (parameters + activations), e.g. 8GB, 512MB (default 4GB)', size)
    .description('list the fused kernels: the ops each computes and the layers they came from')
    .action(async (model) => print(await fusionCommand(model)));
  cli
    .command('train <model>')
    .option('--input-shape <name=dims...>', 'ONNX: sizes of symbolic input dimensions, e.g. tokens=N,32 (N: the batch)')
    .option('--max-memory <size>', 'refuse models needing more than this at batch 1 (parameters + activations), e.g. 8GB, 512MB (default 4GB)', size)
    .description('compile a model with a training step, train it on MNIST and report its test accuracy')
    .option('--data <name>', 'data set: mnist', 'mnist')
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
    .option('--png <file>', 'picture of the first ten test digits with predictions (default <out>/predictions.png)')
    .option('--out <dir>', 'output folder of the compiled module (default build/<model>)')
    .option('--backend <backend>', 'code generator: js | gpujs', 'js')
    .option('--gpu <mode>', 'with --backend gpujs: the GPU.js backend to demand (webasm | cpu | headlessgl)')
    .action(async (model, o) => {
      await trainCommand(model, o, print);
    });
  cli
    .command('precompile <module>')
    .description('export the kernels of a --backend gpujs module with their WebGL2 shaders (headless Chromium), for { precompiled }')
    .option('--batch <n>', 'the batch size the exported kernels run at', integer, 1)
    .option('--out <file>', 'output JSON (default <module>.webgl2.b<batch>.json)')
    .action(async (module, o) => {
      print(`wrote ${await precompileCommand(module, o)}`);
    });
  cli
    .command('demo-browser')
    .description('build a page that trains the MNIST CNN on WebGL2 (GPU.js) and classifies drawn digits; serve it on 127.0.0.1')
    .option('--out <dir>', 'output folder', 'build/demo-browser')
    .option('--port <n>', 'port on 127.0.0.1', integer, 8080)
    .option('--build-only', 'build the page without serving it')
    .action(async (o) => {
      await demoBrowserCommand(o, print);
    });
  cli
    .command('demo')
    .description('compile examples/cnn.ts with training, train it on MNIST, print its test accuracy and a predictions PNG')
    .option('--epochs <n>', 'passes over the 60,000 training images', integer, 1)
    .action(async (o) => {
      await demo(print, { epochs: o.epochs });
    });
  return cli;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], print = (t: string) => process.stdout.write(t.endsWith('\n') ? t : t + '\n')): Promise<number> {
  // Read from argv itself: a failure can come before (or instead of) commander's parse.
  const verbose = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--verbose');
  try {
    await program(print).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) return EXIT.usage; // commander already printed the problem
    return reportFailure(e, verbose, (t) => process.stderr.write(t));
  }
}
