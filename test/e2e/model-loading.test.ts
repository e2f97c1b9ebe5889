// Model files where users keep them: temporary folders outside the repository (ESM and CommonJS
// package.json, none at all), .ts and .js, `kiln` installed there or not, syntax errors, missing
// packages. Each case runs `node bin/kiln.js` as a process in that folder.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kilnIn, ROOT, type KilnRun } from './helpers.ts';

type Run = KilnRun;

const show = (r: Run) => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

const TMP = mkdtempSync(path.join(os.tmpdir(), 'kiln-model-loading-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** A folder under TMP with these files (paths relative to it); `kiln: true` links node_modules/kiln to this repository. */
function folder(name: string, files: Record<string, string>, kiln = false): string {
  const dir = path.join(TMP, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  if (kiln) {
    mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, path.join(dir, 'node_modules', 'kiln'), 'dir');
  }
  return dir;
}

// A 4 → 3 → 2 MLP: 4·3 + 3 + 3·2 + 2 = 23 parameters.
const MLP_TS = `import { layers, sequential } from 'kiln';
const hidden: number = 3;
export default sequential({ name: 'tiny', input: [4] }, [layers.dense(hidden, { activation: 'relu' }), layers.dense(2)]);
`;
const MLP_JS = MLP_TS.replace('const hidden: number = 3;', 'const hidden = 3;');
const OK = /^ok: tiny: \d+ layers, 23 parameters/;

describe('model files in ES module and CommonJS folders', () => {
  const cases: [string, Record<string, string>, string, boolean][] = [
    ['esm-ts', { 'package.json': '{ "type": "module" }', 'model.ts': MLP_TS }, 'model.ts', true],
    ['esm-js', { 'package.json': '{ "type": "module" }', 'model.js': MLP_JS }, 'model.js', true],
    ['cjs-ts', { 'package.json': '{ "name": "app", "version": "1.0.0" }', 'model.ts': MLP_TS }, 'model.ts', true],
    ['cjs-js', { 'package.json': '{ "name": "app", "version": "1.0.0" }', 'model.js': MLP_JS }, 'model.js', true],
    // No package.json and no node_modules/kiln: `kiln` resolves to the CLI's own package.
    ['bare-ts', { 'model.ts': MLP_TS }, 'model.ts', false],
    ['bare-js', { 'model.js': MLP_JS }, 'model.js', false],
  ];
  it.each(cases)('%s: kiln check loads it', async (name, files, model, kiln) => {
    const dir = folder(name, files, kiln);
    const r = await kilnIn(dir, 'check', model);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toMatch(OK);
  }, 60_000);

  it("a CommonJS folder's model importing a sibling .ts as './block.js' (TypeScript's NodeNext style)", async () => {
    const dir = folder('cjs-sibling', {
      'package.json': '{ "name": "app" }',
      'block.ts': "import { layers } from 'kiln';\nexport const block = (n: number) => [layers.dense(n, { activation: 'relu' }), layers.dense(2)];\n",
      'model.ts': "import { sequential } from 'kiln';\nimport { block } from './block.js';\nexport default sequential({ name: 'tiny', input: [4] }, block(3));\n",
    });
    const r = await kilnIn(dir, 'check', 'model.ts');
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toMatch(OK);
  }, 60_000);

  it("`kiln` in the model is the CLI's own package even when the folder installs another", async () => {
    // A decoy `kiln` in the folder: loading it would throw. The layers must come from the CLI's copy
    // (one module instance: the DSL keeps graph-building state), so the decoy is never loaded.
    const dir = folder('decoy', {
      'package.json': '{ "name": "app" }',
      'node_modules/kiln/package.json': '{ "name": "kiln", "main": "index.js" }',
      'node_modules/kiln/index.js': "throw new Error('the decoy kiln was loaded');\n",
      'model.ts': MLP_TS,
    });
    const r = await kilnIn(dir, 'check', 'model.ts');
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toMatch(OK);
  }, 60_000);

  it('a layer error points at the line and column in the .ts file of a CommonJS folder (source maps)', async () => {
    const text = "import { layers, sequential } from 'kiln';\n\nexport default sequential({ name: 'bad', input: [4] }, [\n  layers.dense(3),\n  layers.reshape([5]),\n]);\n";
    const dir = folder('cjs-shape', { 'package.json': '{ "name": "app" }', 'model.ts': text }, true);
    const r = await kilnIn(dir, 'check', 'model.ts');
    expect(r.status, show(r)).toBe(1);
    // The reshape call is on line 5; V8 places a method call at the method's name, and in
    // \`  layers.reshape([5]),\` 'reshape' starts at column 10 (1-based) of the file as written.
    expect(r.stderr).toContain("layer 'reshape_1' (reshape) at model.ts:5:10:");
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});

describe('model files that cannot load: one line each', () => {
  it('a syntax error in a .ts file: file:line:column', async () => {
    const dir = folder('syntax-ts', { 'package.json': '{ "name": "app" }', 'model.ts': "import { layers } from 'kiln';\nconst a: number = 1 +;\n" });
    const r = await kilnIn(dir, 'check', 'model.ts');
    expect(r.status, show(r)).toBe(1);
    // Line 2, and ';' is the 22nd character of `const a: number = 1 +;`.
    expect(r.stderr).toMatch(/^error: syntax error in the model file: model\.ts:2:22: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('a syntax error in a .js file of an ES module folder: file:line:column', async () => {
    const dir = folder('syntax-js', { 'package.json': '{ "type": "module" }', 'model.js': "import { layers } from 'kiln';\n\nexport default {;\n" });
    const r = await kilnIn(dir, 'check', 'model.js');
    expect(r.status, show(r)).toBe(1);
    expect(r.stderr).toMatch(/^error: syntax error in the model file: model\.js:3:17: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('a package the model imports is not installed: names the package and the folder', async () => {
    const dir = folder('missing', { 'package.json': '{ "name": "app" }', 'model.ts': "import { layers } from 'kiln';\nimport pad from 'left-pad-not-installed';\nexport default pad;\n" });
    const r = await kilnIn(dir, 'check', 'model.ts');
    expect(r.status, show(r)).toBe(1);
    expect(r.stderr).toContain("imports 'left-pad-not-installed', which is not installed in " + dir);
    expect(r.stderr).not.toContain('not found: model.ts');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
