// Emitted modules in projects outside this repository (temporary folders under os.tmpdir()): an
// ES module project, a CommonJS one (what `npm init -y` makes), a folder without package.json,
// each with Kiln installed (node_modules/kiln links to this checkout); a --standalone module in a
// folder with no node_modules above it at all; and an application bundle that imports only
// createModel. Each consumer runs as its own Node process, as a user's would.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCommand } from '../../cli/commands.ts';
import { graphParams } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { loadExampleGraph, ROOT } from './helpers.ts';

const MODEL = path.join(ROOT, 'examples', 'mlp.ts');
const BATCH = 2;
/** Node runs `require()` of an ES module (20.19+, 22.12+). */
const REQUIRE_ESM = !!(process.features as { require_module?: boolean }).require_module;

const folders: string[] = [];

/** A fresh project folder under the system's temporary folder; `kiln` installed (linked) unless not asked. */
function project(kind: 'esm' | 'cjs' | 'bare', withKiln: boolean): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `kiln-anywhere-${kind}-`));
  folders.push(dir);
  // npm init -y (npm 10) writes no "type": the project is CommonJS.
  if (kind === 'esm') writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }));
  if (kind === 'cjs') writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', main: 'index.js' }));
  if (withKiln) {
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(ROOT, path.join(dir, 'node_modules', 'kiln'), 'dir');
  }
  return dir;
}

/** What each consumer prints: its prediction's bytes, a training step's loss and the trainer's save() after it. */
interface Run {
  readonly predict: string;
  readonly loss: number;
  readonly saved: string;
}

/** The consumer's body, given the module as `m` (the same for import, import() and require). */
const USE = `
const x = Float32Array.from({ length: ${BATCH} * 784 }, (_, i) => ((i * 7919) % 255) / 255);
const y = m.createModel().predict(x, ${BATCH});
const t = m.createTrainer({ seed: 1 });
const loss = t.step(x, new Int32Array([3, 7]), ${BATCH});
const b64 = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
console.log(JSON.stringify({ predict: b64(y), loss, saved: b64(t.save()) }));
`;

const SCRIPTS = {
  'import.mjs': `import * as m from './build/mlp.mjs';\n${USE}`,
  'require.cjs': `const m = require('./build/mlp.mjs');\n${USE}`,
  'dynamic.cjs': `import('./build/mlp.mjs').then((m) => {\n${USE}\n});`,
};

/** Runs `script` (one of SCRIPTS) in `dir` with Node, as that folder's own program. */
function run(dir: string, script: keyof typeof SCRIPTS): Run {
  writeFileSync(path.join(dir, script), SCRIPTS[script]);
  const out = execFileSync(process.execPath, [script], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as Run;
}

/** The folders from `dir` up to the root that hold a node_modules (a standalone module must need none). */
function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'node_modules'))) found.push(d);
    if (path.dirname(d) === d) return found;
  }
}

/** The module specifiers a bundled ES module still imports (static and dynamic) or requires. */
function importsOf(js: string): string[] {
  const specs = [...js.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gm), ...js.matchAll(/^\s*import\s*["']([^"']+)["']/gm), ...js.matchAll(/\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g)];
  return [...new Set(specs.map((m) => m[1]))].sort();
}

let esm: string;
let plain: Run;

beforeAll(async () => {
  esm = project('esm', true);
  await compileCommand(MODEL, { backend: 'js', out: path.join(esm, 'build'), seed: 0, train: true });
  plain = run(esm, 'import.mjs');
}, 120_000);

afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe('an emitted module in projects outside the repository', () => {
  it('predicts what the model computes, in an ES module project', async () => {
    const graph = await loadExampleGraph('mlp');
    const tensors = decodeWeights(new Uint8Array(readFileSync(path.join(esm, 'build', 'mlp.weights.bin')))).tensors;
    const weights = Object.fromEntries(graphParams(graph).map((p, i) => [String(p.attrs.name), tensors[i].data]));
    const x = Float32Array.from({ length: BATCH * 784 }, (_, i) => ((i * 7919) % 255) / 255);
    const want = interpret(graph, { [String(graph.inputs[0].attrs.name)]: x }, weights, BATCH)[graph.outputs[0].name];
    const got = new Float32Array(new Uint8Array(Buffer.from(plain.predict, 'base64')).buffer);
    expect(got).toBeAllclose(want, { rtol: 1e-5, atol: 1e-6 });
    expect(Number.isFinite(plain.loss)).toBe(true);
  });

  it('imports the same in a CommonJS project (import(), and require() where Node has it) and in a folder without package.json', () => {
    for (const kind of ['cjs', 'bare'] as const) {
      const dir = project(kind, true);
      cpSync(path.join(esm, 'build'), path.join(dir, 'build'), { recursive: true });
      expect(run(dir, 'import.mjs'), kind).toEqual(plain);
      expect(run(dir, 'dynamic.cjs'), kind).toEqual(plain);
      if (REQUIRE_ESM) expect(run(dir, 'require.cjs'), kind).toEqual(plain);
    }
  }, 120_000);

  it('kiln train --out in a CommonJS project compiles, imports and trains the module', () => {
    const dir = project('cjs', true);
    const out = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'kiln.js'), 'train', MODEL, '--out', 'build', '--epochs', '1', '--limit', '128', '--png', 'p.png'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 120_000,
    });
    expect(out).toMatch(/test accuracy: [\d.]+ %/);
    expect(existsSync(path.join(dir, 'build', 'mlp.mjs'))).toBe(true);
    expect(existsSync(path.join(dir, 'build', 'mlp.d.mts'))).toBe(true);
  }, 180_000);
});

describe('kiln compile --standalone', () => {
  it('imports nothing, and in a folder with no node_modules above it predicts and trains bit for bit like the plain module', async () => {
    const dir = project('bare', false);
    expect(nodeModulesAbove(dir)).toEqual([]);
    await compileCommand(MODEL, { backend: 'js', out: path.join(dir, 'build'), seed: 0, train: true, standalone: true });
    const js = readFileSync(path.join(dir, 'build', 'mlp.mjs'), 'utf8');
    expect(importsOf(js)).toEqual([]);
    expect(js).toMatch(/^\/\*\*\n \* Generated by Kiln .*\n[\s\S]*\n \* Standalone: .* it imports nothing\./);
    expect(run(dir, 'import.mjs')).toEqual(plain);
    expect(run(dir, 'dynamic.cjs')).toEqual(plain);
    if (REQUIRE_ESM) expect(run(dir, 'require.cjs')).toEqual(plain);
  }, 120_000);

  it('GPU.js: gpu.js is its one import, and it predicts like the plain GPU.js module', async () => {
    const withKiln = project('esm', true);
    const standalone = project('esm', false);
    mkdirSync(path.join(standalone, 'node_modules'));
    symlinkSync(path.join(ROOT, 'node_modules', 'gpu.js'), path.join(standalone, 'node_modules', 'gpu.js'), 'dir');
    await compileCommand(MODEL, { backend: 'gpujs', out: path.join(withKiln, 'build'), seed: 0 });
    await compileCommand(MODEL, { backend: 'gpujs', out: path.join(standalone, 'build'), seed: 0, standalone: true });
    expect(importsOf(readFileSync(path.join(standalone, 'build', 'mlp.mjs'), 'utf8'))).toEqual(['gpu.js']);
    const script = [
      `import * as m from './build/mlp.mjs';`,
      `const x = Float32Array.from({ length: ${BATCH} * 784 }, (_, i) => ((i * 7919) % 255) / 255);`,
      `const model = m.createModel(undefined, { mode: 'cpu' });`,
      `const y = model.predict(x, ${BATCH});`,
      `console.log(Buffer.from(y.buffer, y.byteOffset, y.byteLength).toString('base64'));`,
    ].join('\n');
    const outputs = [withKiln, standalone].map((dir) => {
      writeFileSync(path.join(dir, 'gpu.mjs'), script);
      return execFileSync(process.execPath, ['gpu.mjs'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim();
    });
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[0].length).toBeGreaterThan(0);
  }, 120_000);

  it('with another runtime import is a one-line error', async () => {
    const dir = project('bare', false);
    await expect(compileCommand(MODEL, { backend: 'js', out: dir, seed: 0, standalone: true, runtimeImport: './runtime.js' })).rejects.toThrow(/^--standalone bundles Kiln's own runtime into the module: --runtime-import does not apply$/);
  });
});

describe('an application that imports only createModel', () => {
  /** esbuild's bundle of an application whose entry imports `names` from the compiled module. */
  function bundle(names: string): string {
    const entry = `import { ${names} } from './build/mlp.mjs';\nconsole.log(${names.split(',')[0]});\n`;
    const result = buildSync({ stdin: { contents: entry, resolveDir: esm, loader: 'js' }, bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'silent' });
    return result.outputFiles[0].text;
  }

  it('bundles no training kernel (a bundle that imports createTrainer has them)', () => {
    const trainingKernel = /function [te]\d+\(/;
    const inference = bundle('createModel');
    expect(inference).toMatch(/function k0\(/);
    expect(inference).not.toMatch(trainingKernel);
    expect(inference).not.toMatch(/\b[te]\d+_acc\b|trainerSimdWasm|trainerKernels/);
    const training = bundle('createTrainer');
    expect(training).toMatch(trainingKernel);
    expect(training).toMatch(/trainerSimdWasm/);
  });

  it('runs from the bundle alone, in a folder without node_modules, and predicts as the module does', () => {
    const dir = project('bare', false);
    const entry = [
      `import { createModel } from './build/mlp.mjs';`,
      `const x = Float32Array.from({ length: ${BATCH} * 784 }, (_, i) => ((i * 7919) % 255) / 255);`,
      `const y = createModel().predict(x, ${BATCH});`,
      `console.log(Buffer.from(y.buffer, y.byteOffset, y.byteLength).toString('base64'));`,
    ].join('\n');
    const result = buildSync({ stdin: { contents: entry, resolveDir: esm, loader: 'js' }, bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'silent' });
    writeFileSync(path.join(dir, 'app.mjs'), result.outputFiles[0].text);
    const out = execFileSync(process.execPath, ['app.mjs'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim();
    expect(out).toBe(plain.predict);
  });
});
