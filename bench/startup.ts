// Start-up costs, each measured in fresh Node processes (cold JIT) running the compiled package (dist/),
// as wall clock and as CPU time (which a machine busy with other work inflates far less):
// - the CLI as users run it: `kiln --version`, `--help`, `check`, `compile --train` (wall clock);
// - where a compile's time goes: importing the compiler, loading the model file, lowering, the
//   training step, emitting (the emitter writes formatted TypeScript and strips its own types: no
//   ts-morph or TypeScript is loaded);
// - per example: `compileModel` with its training step, and import → first predict of its
//   inference-only module and of the full module, stage by stage (wall and CPU time).
// Writes bench/startup.md. Usage: npm run build && npx tsx bench/startup.ts (also run by `npm run bench`);
// with --first, only the first-prediction rows, printed (nothing written). To compare two compilers
// (e.g. an older commit's worktree against this one), nothing written either:
//   npx tsx bench/startup.ts --emit build/ab/new [--models cnn2,mlp]     this tree's modules, weights
//   npx tsx bench/startup.ts --modules old=build/ab/old,new=build/ab/new [--models cnn2] [--rounds 15]
//     import → first predict of each folder's inference module, interleaved round by round; modules
//     in this tree's build/ import this tree's dist/ runtime (an A/B of kernels and module code).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineDescription } from './machine.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const dist = path.join(root, 'dist');
const EXAMPLES = ['mlp', 'mlp256', 'cnn', 'cnn-small', 'lenet', 'cnn2', 'cifar-cnn'];
const ROUNDS = 3;
const CLI_ROUNDS = 5;
const out = path.join(root, 'build', 'bench-startup');
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const url = (p: string) => JSON.stringify(new URL(`file://${path.join(root, p)}`).href);

/** Newest modification time of Kiln's TypeScript sources: dist/ must be newer to be measured. */
function newestSource(): number {
  let newest = 0;
  for (const folder of ['src', 'compiler', 'cli', 'runtime']) {
    for (const e of readdirSync(path.join(root, folder), { recursive: true, withFileTypes: true })) {
      if (e.isFile() && e.name.endsWith('.ts')) newest = Math.max(newest, statSync(path.join(e.parentPath, e.name)).mtimeMs);
    }
  }
  return newest;
}

const built = path.join(dist, '.tsbuildinfo');
if (!existsSync(path.join(dist, 'cli', 'main.js')) || !existsSync(built)) throw new Error('no compiled CLI in dist/: run npm run build first');
const stale = statSync(built).mtimeMs < newestSource();
if (stale) console.warn('warning: dist/ is older than a source file: bin/kiln.js will run the sources through tsx (run npm run build)');

/**
 * A child script's clock: wall time. (CPU time counts V8's background compiler and GC threads too,
 * which makes a stage look longer than it is; the CLI table gives both for whole commands.)
 */
const CLOCK = 'const now = () => performance.now();';

/** Runs `script` (an ES module body, with `now()` its clock) in a fresh plain `node`; returns the JSON it printed last. */
function fresh(script: string): Record<string, number> {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `${CLOCK}\n${script}`], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

mkdirSync(out, { recursive: true });
// Preloaded into each timed CLI process: prints its CPU time (user + system, every thread) on exit,
// a figure a busy machine inflates far less than wall-clock time.
const cpuProbe = path.join(out, 'cpu-probe.mjs');
writeFileSync(cpuProbe, "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write(`\\nKILN_BENCH_CPU ${(u.user + u.system) / 1000}\\n`); });\n");

/** Wall-clock and CPU milliseconds of `node bin/kiln.js ...args`. */
function timeCli(args: string[]): { wall: number; cpu: number } {
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--import', new URL(`file://${cpuProbe}`).href, path.join(root, 'bin', 'kiln.js'), ...args], { cwd: root, encoding: 'utf8' });
  const wall = performance.now() - started;
  if (r.status !== 0) throw new Error(`kiln ${args.join(' ')}: ${r.stderr}`);
  const cpu = Number(/KILN_BENCH_CPU (\S+)/.exec(r.stderr)?.[1]);
  return { wall, cpu };
}

// 1. The CLI as users run it.
const CLI: [string, string[]][] = [
  ['kiln --version', ['--version']],
  ['kiln --help', ['--help']],
  ['kiln check examples/cnn.ts', ['check', 'examples/cnn.ts']],
  ['kiln compile examples/cnn.ts --train', ['compile', 'examples/cnn.ts', '--train', '--out', path.join(out, 'cli')]],
  ['kiln compile examples/mlp.ts --train', ['compile', 'examples/mlp.ts', '--train', '--out', path.join(out, 'cli')]],
];
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const only = ['--first', '--emit', '--modules'].some((f) => process.argv.includes(f));
const cliRows = (only ? [] : CLI).map(([name, args]) => {
  const runs = Array.from({ length: CLI_ROUNDS }, () => timeCli(args));
  const wall = runs.map((r) => r.wall);
  const row = `| \`${name}\` | ${median(wall).toFixed(0)} | ${Math.min(...wall).toFixed(0)} | ${median(runs.map((r) => r.cpu)).toFixed(0)} |`;
  console.log(row);
  return row;
});

// 2. Where a compile's time goes (dist/ modules, one fresh process per round).
const STAGE_NAMES = ['import the compiler', 'load the model file', 'lower', 'training step', 'emit'];
function stages(name: string): number[] {
  const s = fresh(`
    const t = [now()];
    const { compileModel } = await import(${url('dist/compiler/compile.js')});
    const { loadModel } = await import(${url('dist/cli/load.js')});
    const { resolveLoss, resolveOptimizer } = await import(${url('dist/cli/training-spec.js')});
    t.push(now());
    const { graph } = await loadModel(${JSON.stringify(path.join(root, 'examples', `${name}.ts`))}); t.push(now());
    const training = { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) };
    compileModel(graph, { training, onStage: (stage) => { if (!stage.startsWith('compiling')) t.push(now()); } });
    t.push(now());
    console.log(JSON.stringify(t.slice(1).map((x, i) => x - t[i])));`);
  return Object.values(s);
}
const stageRows: string[] = [];
for (const name of only ? [] : ['cnn', 'mlp']) {
  const runs = Array.from({ length: ROUNDS }, () => stages(name));
  const m = STAGE_NAMES.map((_, i) => median(runs.map((r) => r[i] ?? 0)));
  stageRows.push(`| ${name} | ${m.map((x) => x.toFixed(0)).join(' | ')} |`);
  console.log(stageRows[stageRows.length - 1]);
}

// 3. Per example: compileModel with training, and import → first predict of its inference-only
// module (`<name>.inference.mjs`, what an application that only predicts imports) and of the full
// module (with createTrainer), each stage's wall and CPU time. Each run is a fresh `node` on a
// script file, as an application is: Node's ES-module loader starts before the file's first line
// (a script given with -e pays it at its first import instead: 3-5 ms more).
const FIRST_STAGES = ['import the runtime entry it imports', 'import the module', 'createModel (reads the weight file)', 'first predict'] as const;
const firstScript = path.join(out, 'first-predict.mjs');
writeFileSync(
  firstScript,
  `// node first-predict.mjs MODULE WEIGHTS path|bytes RUNTIME: import → createModel(path) → predict at batch 1 (bytes: readFileSync +
// createModel(bytes)); RUNTIME is the runtime entry the module imports, imported first to time it apart.
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const wall = [performance.now()], used = [cpu()];
const mark = () => { wall.push(performance.now()); used.push(cpu()); };
const [file, weights, how, runtime] = process.argv.slice(2);
await import(runtime); mark();
const m = await import(file); mark();
// process.getBuiltinModule: importing node:fs as an ES module would load Node's streams (2-3 ms) into the timing.
const model = m.createModel(how === 'bytes' ? process.getBuiltinModule('node:fs').readFileSync(weights) : weights); mark();
const size = m.inputs[0].shape.slice(1).reduce((a, b) => a * b, 1);
model.predict(new Float32Array(size), 1); mark();
const steps = (a) => a.slice(1).map((x, i) => x - a[i]);
console.log(JSON.stringify({ wall: steps(wall), cpu: steps(used) }));
`,
);
type FirstRun = { wall: number[]; cpu: number[] };
/** The runtime entry an emitted module imports (kiln/runtime/inference for an inference-only module, else kiln/runtime). */
function runtimeOf(file: string): string {
  const entry = /^import \{[^}]*\} from "(kiln\/runtime[^"]*)";$/m.exec(readFileSync(file, 'utf8'))?.[1];
  if (!entry) throw new Error(`${file} imports no kiln/runtime entry`);
  return entry;
}
/** One fresh process: import → createModel(weight file) → predict at batch 1, each stage timed (wall and CPU ms). */
function firstPredict(file: string, weights: string, how: 'path' | 'bytes' = 'path'): FirstRun {
  const f = spawnSync(process.execPath, [firstScript, new URL(`file://${file}`).href, weights, how, runtimeOf(file)], { cwd: out, encoding: 'utf8' });
  if (f.status !== 0) throw new Error(f.stderr);
  return JSON.parse(f.stdout.trim().split('\n').pop()!);
}
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
/**
 * Rounds of the first-prediction rows. One fresh process's wall clock is noisy on a 2-core
 * machine (cnn2: 17-27 ms over 15 quiet processes, 2026-12-04; V8's background compiles share the
 * cores with the main thread), so the median of 15 rounds (about 30 s for the seven examples)
 * moves less from run to run than that of 7 did.
 */
const FIRST_ROUNDS = 15;

/** Compiles examples/<name>.ts with its training step into `dir` (both modules and the weights, seed 1); returns the compile's ms. */
function compileExample(name: string, dir: string): number {
  mkdirSync(dir, { recursive: true });
  return fresh(`
    import { writeFileSync } from 'node:fs';
    const { compileModel } = await import(${url('dist/compiler/compile.js')});
    const { loadModel } = await import(${url('dist/cli/load.js')});
    const { resolveLoss, resolveOptimizer } = await import(${url('dist/cli/training-spec.js')});
    const { graph } = await loadModel(${JSON.stringify(path.join(root, 'examples', `${name}.ts`))});
    const started = now();
    const c = compileModel(graph, { seed: 1, training: { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) }, inferenceModule: true });
    const ms = now() - started;
    writeFileSync(${JSON.stringify(path.join(dir, `${name}.mjs`))}, c.js);
    writeFileSync(${JSON.stringify(path.join(dir, `${name}.inference.mjs`))}, c.inference.js);
    writeFileSync(${JSON.stringify(path.join(dir, `${name}.weights.bin`))}, c.weights);
    console.log(JSON.stringify({ ms }));`).ms;
}

/** --modules: import → first predict of each folder's inference module, interleaved round by round; medians printed. */
function compareFirstPredicts(folders: [string, string][], models: readonly string[], rounds: number): void {
  console.log(`| model | ${folders.map(([label]) => `${label}: import → first predict (first predict alone / its CPU), ms`).join(' | ')} |`);
  for (const name of models) {
    const runs = folders.map((): FirstRun[] => []);
    for (let r = 0; r < rounds; r++) {
      folders.forEach(([, dir], i) => runs[i].push(firstPredict(path.resolve(dir, `${name}.inference.mjs`), path.resolve(dir, `${name}.weights.bin`))));
    }
    const cell = (rs: FirstRun[]) => `${median(rs.map((x) => sum(x.wall))).toFixed(1)} (${median(rs.map((x) => x.wall[3])).toFixed(1)} / ${median(rs.map((x) => x.cpu[3])).toFixed(1)})`;
    console.log(`| ${name} | ${runs.map(cell).join(' | ')} |`);
  }
}

const models = flag('--models')?.split(',') ?? EXAMPLES;
const emitTo = flag('--emit');
const compared = flag('--modules');
if (emitTo) {
  for (const name of models) compileExample(name, path.resolve(emitTo));
  process.exit(0);
}
if (compared) {
  const folders = compared.split(',').map((entry): [string, string] => {
    const [label, dir] = entry.split('=');
    if (!dir) throw new Error(`--modules takes label=folder pairs, got ${entry}`);
    return [label, dir];
  });
  compareFirstPredicts(folders, models, Number(flag('--rounds') ?? 15));
  process.exit(0);
}

/**
 * What touching fresh memory costs on this machine, in µs per 4 KiB page: 32 MiB of a new
 * ArrayBuffer written one byte a page, in a fresh process (median of 5). A model's weights must
 * land in fresh pages of its memory, so their size times this is a floor under createModel that no
 * code of Kiln's can lower (about 3 µs and 12 µs on the two kinds of virtual machine this project
 * has run on).
 */
function freshPageMicros(): number {
  const runs = Array.from({ length: 5 }, () =>
    fresh(`
      const bytes = 32 << 20, page = 4096;
      const a = new Uint8Array(bytes);
      const t = now();
      for (let i = 0; i < bytes; i += page) a[i] = 1;
      console.log(JSON.stringify({ us: ((now() - t) * 1000) / (bytes / page) }));`).us,
  );
  return median(runs);
}
const pageMicros = freshPageMicros();
console.log(`fresh memory here: ${pageMicros.toFixed(2)} µs per 4 KiB page`);
/** The weights' size in MB, and what touching that much fresh memory costs here (ms). */
function weightsFloor(file: string): string {
  const size = statSync(file).size;
  return `${(size / 1e6).toFixed(1)} / ${((Math.ceil(size / 4096) * pageMicros) / 1000).toFixed(1)}`;
}

const rows: string[] = [];
const stageRowsFirst: string[] = [];
for (const name of EXAMPLES) {
  const compile: number[] = [];
  for (let r = 0; r < (only ? 1 : ROUNDS); r++) compile.push(compileExample(name, out));
  // The three ways interleaved, round by round, so that a change in the machine's load falls on each alike.
  const weights = path.join(out, `${name}.weights.bin`);
  const inference: FirstRun[] = [];
  const bytes: FirstRun[] = [];
  const full: FirstRun[] = [];
  for (let r = 0; r < FIRST_ROUNDS; r++) {
    inference.push(firstPredict(path.join(out, `${name}.inference.mjs`), weights));
    bytes.push(firstPredict(path.join(out, `${name}.inference.mjs`), weights, 'bytes'));
    full.push(firstPredict(path.join(out, `${name}.mjs`), weights));
  }
  const total = (runs: FirstRun[], k: 'wall' | 'cpu') => median(runs.map((r) => sum(r[k]))).toFixed(1);
  const spread = (runs: FirstRun[]) => {
    const t = runs.map((r) => sum(r.wall));
    return `${Math.min(...t).toFixed(1)}–${Math.max(...t).toFixed(1)}`;
  };
  rows.push(`| ${name} | ${median(compile).toFixed(0)} | ${weightsFloor(weights)} | ${total(inference, 'wall')} | ${spread(inference)} | ${total(inference, 'cpu')} | ${total(bytes, 'wall')} / ${total(bytes, 'cpu')} | ${total(full, 'wall')} / ${total(full, 'cpu')} |`);
  const stage = (i: number) => `${median(inference.map((r) => r.wall[i])).toFixed(1)} / ${median(inference.map((r) => r.cpu[i])).toFixed(1)}`;
  stageRowsFirst.push(`| ${name} | ${FIRST_STAGES.map((_, i) => stage(i)).join(' | ')} |`);
  console.log(rows[rows.length - 1]);
  console.log(stageRowsFirst[stageRowsFirst.length - 1]);
}
if (only) process.exit(0);

const load = os.loadavg()[0].toFixed(1);
const report = path.join(here, 'startup.md');
// The sections written by hand (their headings say so) follow the generated ones: kept as they are.
const previous = existsSync(report) ? readFileSync(report, 'utf8') : '';
const byHand = previous.search(/^## .*written by hand/m);
writeFileSync(
  report,
  [
    '# Start-up: the CLI, where a compile goes, first prediction',
    '',
    `- Date: ${new Date().toISOString()}; ${machineDescription()}, Node ${process.version}; load average ${load} when written (a machine shared with other work: wall-clock figures are noisy, CPU-time ones less so)${stale ? '; **dist/ was older than the sources: the CLI ran from source through tsx**' : ''}.`,
    '- Everything runs the compiled package (dist/, `npm run build`) in fresh processes. `npx tsx bench/startup.ts` writes this file.',
    '',
    '## The CLI (`node bin/kiln.js …`, wall clock)',
    '',
    `Median and fastest wall clock of ${CLI_ROUNDS} runs, and the median CPU time (user + system, every thread of the process: V8 compiles and collects garbage on threads of its own, so CPU can exceed wall; a busy machine inflates it far less than wall). Goals: \`--version\` under 300 ms, \`check examples/cnn.ts\` under 1000 ms, \`compile examples/cnn.ts --train\` under 1500 ms.`,
    '',
    '| command | median wall (ms) | fastest wall (ms) | median CPU (ms) |',
    '|---|---:|---:|---:|',
    ...cliRows,
    '',
    '## Where `compile --train` goes (ms, median of 3)',
    '',
    'Each stage in one fresh process, in order, from the compiled package. Emitting: formatted TypeScript written directly (`compiler/emit/writer.ts`), its JavaScript by stripping the types Kiln writes (`strip-types.ts`); no ts-morph or TypeScript is loaded.',
    '',
    `| model | ${STAGE_NAMES.join(' | ')} |`,
    `|---|${STAGE_NAMES.map(() => '---:').join('|')}|`,
    ...stageRows,
    '',
    '## Per example: compile and first prediction',
    '',
    `Compile: \`compileModel\` with the training step (forward, loss, gradients, Adam), emission included (both modules, as \`kiln compile --train\` writes them), after the model file is loaded; median of ${ROUNDS} fresh processes. First predict: \`import\` of the emitted module (the inference-only one imports \`kiln/runtime/inference\`, the full one \`kiln/runtime\`) + \`createModel('<name>.weights.bin')\` (the path: the weights are read into the model's memory, through the checksum's 64 KiB window) + \`predict\` at batch 1, in a fresh \`node\` running a script file (bench/startup.ts writes it: build/bench-startup/first-predict.mjs), as an application does; median of ${FIRST_ROUNDS} rounds, the three ways interleaved in each round. For the inference-only module (\`<name>.inference.mjs\`, what an application that only predicts imports), the fastest and slowest of the rounds too; the same module given the file's bytes (\`readFileSync\` + \`createModel(bytes)\`); and the full module (with \`createTrainer\`). Wall clock, and CPU time (user + system, every thread: it also counts V8's compiler and GC threads, but a busy machine inflates it far less). Goals: 20 ms, cifar-cnn 60 ms. Weights: the file's size, and what touching that much fresh memory costs on this machine (${pageMicros.toFixed(2)} µs per 4 KiB page, measured as the run began: 32 MiB of a new buffer, one byte a page, median of 5 fresh processes); the weights must land in fresh pages of the model's memory, so that is a floor under the first prediction whatever the code does.`,
    '',
    '| model | compile (ms) | weights: MB / fresh-page floor here (ms) | inference module: import → first predict (ms) | fastest–slowest (ms) | the same, CPU (ms) | given the bytes: wall / CPU (ms) | full module: wall / CPU (ms) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    '## Where the first prediction goes (inference module; wall / CPU ms, median)',
    '',
    `| model | ${FIRST_STAGES.join(' | ')} |`,
    `|---|${FIRST_STAGES.map(() => '---:').join('|')}|`,
    ...stageRowsFirst,
    '',
    'What the stages are (from CPU profiles and scratch measurements, Node 20):',
    '',
    "- **import the runtime entry**: Node's ES-module loader (its first import in a process costs 2-3 ms whatever the file; each file about a millisecond more; resolving the first package name through a package.json \"exports\" 2-3 ms more, most of it V8 compiling, twice, one case-insensitive regular expression of Node's that checks export targets, which an application pays once for whichever package it imports first) and parsing the runtime: for the inference module \`kiln/runtime/inference\`, one bundled file of 55 KB with no training code; \`kiln/runtime\` (the full module's) is that file and one of 39 KB over it (scripts/build-dist.mjs). It imports no Node built-in as an ES module: node:zlib or node:fs imported that way load Node's streams (2-3 ms); the runtime takes them with process.getBuiltinModule when first needed.",
    "- **import the module**: parsing it and running its top level, which decodes its WebAssembly kernels from base64 (natively). The inference-only module is about a fifth of the full module's size and decodes no training kernels.",
    "- **createModel**: compiling the WebAssembly kernels (the first module a process compiles costs about 1.3 ms more of CPU, mostly on V8's threads), warming the larger ones up (the binary's warm(): each kernel of 2^18 multiply-adds or more at batch 1 called with empty row ranges until V8 has spent its tier-up budget on it, about 1 ms for cifar-cnn's three, and their baseline compilation, which the first predict paid before; TurboFan then compiles them on a background thread while the weights are read: the CPU column counts it) and reading the weight file: under 1 MiB whole, in one read; from 1 MiB with positioned reads through the checksum's 64 KiB window (read there, hashed where it lies, copied into the model's WebAssembly memory); checked with XXH32 in WebAssembly SIMD (format version 2; version 1's CRC-32 needed zlib from 1 MiB, 2-3 ms to load, the streams again). The read is mostly page faults of fresh memory (the weights column): on a machine where a page fault is dear, a page the kernel fills in read() also costs several µs more at the program's first touch of it, which the window avoids (2026-12-04, 12 µs a page: reading and checking cifar-cnn's 34 MB 171 → 127 ms, median of 8; docs/speed.md). Given the file's bytes instead, the process faults in twice as much (the bytes, then the model's copy).",
    "- **first predict**: the kernels' first run: the warmed ones optimised by TurboFan (cifar-cnn's 32 MB matrix-vector product about 3 ms; 9 ms before, in V8's baseline compiler Liftoff), the smaller WebAssembly ones in Liftoff and JavaScript ones in V8's interpreter.",
    '',
    ...(byHand >= 0 ? [previous.slice(byHand).trimEnd(), ''] : []),
  ].join('\n'),
);
