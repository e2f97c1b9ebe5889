// `npm run fuzz -- --runs 100000 [--seed S] [--target onnx|json|weights]`: a long fuzz campaign that prints its counts by outcome.
//
// Cases run in a worker thread so that a hang or a crash is recorded (with its seed) instead of
// stopping the campaign; the worker is replaced every CHUNK cases so emitted modules do not pile up.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { makeTarget, TARGET_NAMES, type AnyTarget, type TargetName } from './targets.ts';
import type { WorkerMessage, WorkerTask } from './worker.ts';

const CHUNK = 1000;

interface Options {
  runs: number;
  seed: number;
  targets: TargetName[];
  hangMs: number;
  shrinkPerKey: number;
  shrinkMs: number;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (flag: string, def: number) => {
    const v = get(flag);
    if (v === undefined) return def;
    if (!/^\d+$/.test(v)) usage(`${flag} wants a non-negative integer, got '${v}'`);
    return Number(v);
  };
  const target = get('--target');
  if (target !== undefined && !(TARGET_NAMES as readonly string[]).includes(target)) usage(`--target is one of ${TARGET_NAMES.join(', ')}, got '${target}'`);
  const seed = int('--seed', Date.now() % 1_000_000_000);
  return {
    runs: int('--runs', 1000),
    seed,
    targets: target ? [target as TargetName] : [...TARGET_NAMES],
    hangMs: int('--hang-ms', 120_000),
    shrinkPerKey: int('--shrink-per-class', 1),
    shrinkMs: int('--shrink-ms', 30_000),
    out: get('--out') ?? path.join(os.tmpdir(), `kiln-fuzz-${seed}`),
  };
}

function usage(why: string): never {
  console.error(`kiln fuzz: ${why}\nusage: npm run fuzz -- [--runs N] [--seed S] [--target ${TARGET_NAMES.join('|')}] [--hang-ms MS] [--shrink-per-class K] [--shrink-ms MS] [--out DIR]`);
  process.exit(2);
}

interface Failure {
  key: string;
  seeds: number[];
  message: string;
  files: string[];
}

/** Runs `seeds` of `name` in successive workers; a silent worker (hang) or a dead one (crash) costs one case. */
async function runTarget(name: TargetName, seeds: number[], o: Options, record: (m: Extract<WorkerMessage, { type: 'done' }>) => void, shrunk: Record<string, number>): Promise<void> {
  const tsx = import.meta.resolve('tsx/esm/api');
  const workerUrl = new URL('./worker.ts', import.meta.url).href;
  let next = 0;
  while (next < seeds.length) {
    const task: WorkerTask = { target: name, seeds: seeds.slice(next, next + CHUNK), shrunk: { ...shrunk }, shrinkPerKey: o.shrinkPerKey, shrinkMs: o.shrinkMs };
    const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(workerUrl)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: task });
    let current: number | undefined;
    let done = 0;
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          record({ type: 'done', seed: current ?? task.seeds[done], key: `FAILURE: no answer within ${o.hangMs / 1000} s (hang)`, ms: o.hangMs });
          done++;
          void worker.terminate();
        }, o.hangMs);
      };
      arm();
      worker.on('message', (m: WorkerMessage) => {
        arm();
        if (m.type === 'start') current = m.seed;
        else if (m.type === 'done') {
          if (m.minimal) shrunk[m.key] = (shrunk[m.key] ?? 0) + 1;
          record(m);
          done++;
          current = undefined;
        }
      });
      worker.on('error', (e) => {
        if (current === undefined && done === 0) {
          console.error(`kiln fuzz: the ${name} worker failed before its first case: ${e.stack ?? e.message}`);
          process.exit(1);
        }
        record({ type: 'done', seed: current ?? task.seeds[done], key: `FAILURE: the worker died (${e.name}: ${e.message.split('\n')[0].slice(0, 120)})`, ms: 0 });
        done++;
      });
      worker.on('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'finished') void worker.terminate();
      });
    });
    next += Math.max(done, 1);
  }
}

/** Writes the mutant (minimised when there is one) for a failure, returning the paths written. */
function writeReproducer(target: AnyTarget, seed: number, minimal: unknown, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const mutant = minimal ?? fc.sample(target.arbitrary, { seed, numRuns: 1 })[0];
  const stem = path.join(dir, `${target.name}-${seed}${minimal ? '.min' : ''}`);
  const files = [`${stem}.mutant.json`];
  writeFileSync(files[0], JSON.stringify(mutant, null, 1));
  try {
    const { data, ext } = target.artifact(mutant);
    files.push(`${stem}.${ext}`);
    writeFileSync(files[1], data);
  } catch (e) {
    files.push(`(the mutant's file could not be written: ${(e as Error).message})`);
  }
  return files;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const counts = new Map<TargetName, Map<string, number>>();
  const failures = new Map<string, Failure>();
  const shrunk: Record<string, number> = {};
  let total = 0;
  let lastPrint = performance.now();
  console.log(`kiln fuzz: ${o.runs} cases, seed ${o.seed}, targets ${o.targets.join(', ')}; reproducers go to ${o.out}`);
  for (const [ti, name] of o.targets.entries()) {
    // Case i of the campaign is target i mod (number of targets), with seed S + i.
    const seeds = Array.from({ length: o.runs }, (_, i) => i).filter((i) => i % o.targets.length === ti).map((i) => o.seed + i);
    if (!seeds.length) continue;
    const target = await makeTarget(name);
    const byKey = new Map<string, number>();
    counts.set(name, byKey);
    await runTarget(name, seeds, o, (m) => {
      total++;
      byKey.set(m.key, (byKey.get(m.key) ?? 0) + 1);
      if (m.key.startsWith('FAILURE')) {
        const f = failures.get(m.key) ?? { key: m.key, seeds: [], message: m.message ?? '', files: [] };
        f.seeds.push(m.seed);
        if (f.files.length === 0 || m.minimal) f.files.push(...writeReproducer(target, m.seed, m.minimal?.mutant, o.out));
        failures.set(m.key, f);
        if (m.minimal && m.minimal.key !== m.key) f.files.push(`(minimised, it fails as: ${m.minimal.key})`);
      }
      if (performance.now() - lastPrint > 10_000) {
        lastPrint = performance.now();
        console.log(`  ${total}/${o.runs} cases, ${failures.size} failure classes, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
    }, shrunk);
  }
  console.log(`\n${total} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s (seed ${o.seed})`);
  for (const [name, byKey] of counts) {
    console.log(`\n${name}:`);
    for (const [key, n] of [...byKey].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(7)}  ${key}`);
  }
  if (failures.size === 0) {
    console.log('\nno failures');
    return;
  }
  console.log(`\n${failures.size} failure classes:`);
  for (const f of failures.values()) {
    const target = f.files[0] ? path.basename(f.files[0]).split('-')[0] : o.targets[0];
    console.log(`- ${f.key}\n    ${f.seeds.length} cases; e.g. ${f.message.slice(0, 200)}`);
    console.log(`    reproduce: npm run fuzz -- --target ${target} --seed ${f.seeds[0]} --runs 1`);
    for (const file of f.files) console.log(`    ${file}`);
  }
  process.exitCode = 1;
}

await main();
