// Start-up costs, per example model, each measured in a fresh Node process (cold JIT):
// - compile: `compileModel` of the model with its training step (what `kiln compile --train` does);
// - first predict: importing the emitted module, `createModel(weights)` and the first `predict`
//   at batch 1, as an application would see it.
// Writes bench/startup.md. Usage: npx tsx bench/startup.ts (also run by `npm run bench`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const EXAMPLES = ['mlp', 'mlp256', 'cnn', 'cnn-small', 'lenet', 'cnn2', 'cifar-cnn'];
const ROUNDS = 3;

/** Runs `script` (an ES module body) in a fresh `node --import tsx` process; returns what it printed as JSON. */
function fresh(script: string): Record<string, number> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const out = path.join(root, 'build', 'bench-startup');
mkdirSync(out, { recursive: true });
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const rows: string[] = [];
for (const name of EXAMPLES) {
  const compile: number[] = [];
  const first: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c = fresh(`
      import { writeFileSync } from 'node:fs';
      import { compileModel } from './compiler/compile.ts';
      import { resolveLoss, resolveOptimizer } from './cli/training-spec.ts';
      const { graph } = (await import('./examples/${name}.ts')).default;
      const started = performance.now();
      const c = compileModel(graph, { seed: 1, training: { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) } });
      const ms = performance.now() - started;
      writeFileSync(${JSON.stringify(path.join(out, `${name}.js`))}, c.js);
      writeFileSync(${JSON.stringify(path.join(out, `${name}.weights.bin`))}, c.weights);
      console.log(JSON.stringify({ ms }));`);
    compile.push(c.ms);
    const f = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { readFileSync } from 'node:fs';
      const started = performance.now();
      const m = await import(${JSON.stringify(path.join(out, `${name}.js`))});
      const model = m.createModel(readFileSync(${JSON.stringify(path.join(out, `${name}.weights.bin`))}));
      const size = m.inputs[0].shape.slice(1).reduce((a, b) => a * b, 1);
      model.predict(new Float32Array(size), 1);
      console.log(JSON.stringify({ ms: performance.now() - started }));`], { cwd: out, encoding: 'utf8' });
    if (f.status !== 0) throw new Error(f.stderr);
    first.push(JSON.parse(f.stdout.trim()).ms);
  }
  rows.push(`| ${name} | ${median(compile).toFixed(0)} | ${median(first).toFixed(1)} |`);
  console.log(rows[rows.length - 1]);
}
writeFileSync(
  path.join(here, 'startup.md'),
  [
    '# Start-up: compile time and first prediction',
    '',
    `- Date: ${new Date().toISOString()}; ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical CPUs, Node ${process.version}`,
    `- Each number is the median of ${ROUNDS} fresh processes. Compile: \`compileModel\` with the training step (forward, loss, gradients, Adam), emission included. First predict: \`import\` of the emitted module + \`createModel(weights)\` + \`predict\` at batch 1.`,
    '',
    '| model | compile (ms) | import → first predict (ms) |',
    '|---|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
);
