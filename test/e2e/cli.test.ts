// The `kiln` command line run as a process (node bin/kiln.js): help, check, summary, compile, ir, and its errors.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphParams } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { importModule, loadExampleGraph, randomFloats, ROOT } from './helpers.ts';
import { kiln, showRun } from './helpers.ts';
import { stageLine } from '../../cli/stages.ts';

const show = showRun;

const PARAMS: Record<string, number> = {
  mlp: 55_050,
  mlp256: 203_530,
  cnn: 693_962,
  'cnn-small': 54_410,
  lenet: 21_840,
  'cifar-cnn': 8_475_530,
  cnn2: 843_658,
};

describe('kiln CLI', () => {
  it('--help exits 0 and lists compile, check and summary', async () => {
    const r = await kiln('--help');
    expect(r.status, show(r)).toBe(0);
    for (const cmd of ['compile', 'check', 'summary']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });

  it('check: exits 1 on lenet-bug naming the layer, both sizes and the line; 0 on lenet', async () => {
    const [bad, good] = await Promise.all([kiln('check', 'examples/lenet-bug.ts'), kiln('check', 'examples/lenet.ts')]);
    expect(bad.status, show(bad)).toBe(1);
    expect(bad.stderr).toContain("'view'");
    expect(bad.stderr).toContain('320');
    expect(bad.stderr).toContain('8000');
    expect(bad.stderr).toContain('examples/lenet-bug.ts:9');
    expect(bad.stderr).not.toMatch(/^\s+at /m); // a message, not a stack trace
    expect(good.status, show(good)).toBe(0);
    expect(good.stdout).toMatch(/^ok: lenet/);
    expect(good.stdout).toContain('21,840');
  });

  it('summary --json gives the parameter totals of every example', async () => {
    const names = Object.keys(PARAMS);
    const results = await Promise.all(names.map((n) => kiln('summary', `examples/${n}.ts`, '--json')));
    results.forEach((r, i) => {
      expect(r.status, show(r)).toBe(0);
      const s = JSON.parse(r.stdout) as { model: string; totals: { params: number } };
      expect(s.totals.params, names[i]).toBe(PARAMS[names[i]]);
    });
  }, 120_000);

  it('compile writes the ES module, its declarations and weights; the module imports and predicts', async () => {
    const out = path.join('test', '.out', 'cli-mlp');
    rmSync(path.join(ROOT, out), { recursive: true, force: true });
    const r = await kiln('compile', 'examples/mlp.ts', '--out', out);
    expect(r.status, show(r)).toBe(0);
    for (const f of ['mlp.mjs', 'mlp.d.mts', 'mlp.weights.bin']) {
      expect(existsSync(path.join(ROOT, out, f)), f).toBe(true);
      expect(r.stdout).toContain(path.join(out, f));
    }
    expect(readFileSync(path.join(ROOT, out, 'mlp.mjs'), 'utf8')).toContain('export function createModel(');
    expect(readFileSync(path.join(ROOT, out, 'mlp.d.mts'), 'utf8')).toContain('export declare function createModel(');

    const mod = await importModule(path.join(ROOT, out, 'mlp.mjs'));
    const bytes = new Uint8Array(readFileSync(path.join(ROOT, out, 'mlp.weights.bin')));
    const x = randomFloats(784 * 2, 21, 0, 1);
    const y = mod.createModel(bytes).predict(x, 2);

    // Reference: the same model file interpreted here, its parameters fed from the weight file
    // in order (parameter order is creation order in both processes).
    const graph = await loadExampleGraph('mlp');
    const tensors = decodeWeights(bytes).tensors;
    const params = graphParams(graph);
    expect(tensors.map((t) => t.shape)).toEqual(params.map((p) => p.type.shape));
    const weights = Object.fromEntries(params.map((p, i) => [String(p.attrs.name), tensors[i].data]));
    const want = interpret(graph, { [String(graph.inputs[0].attrs.name)]: x }, weights, 2)[graph.outputs[0].name];
    expect(y).toBeAllclose(want, { rtol: 1e-5, atol: 1e-6 });
  }, 60_000);

  it('ir --stage kernels prints the rendered kernels', async () => {
    const r = await kiln('ir', 'examples/mlp.ts', '--stage', 'kernels');
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toContain('function k0(');
    expect(r.stdout).toContain('matmul -> add -> relu');
  });

  it('ir --stage wasm prints the SIMD kernels as WebAssembly text, and which kernels stay JavaScript', async () => {
    const r = await kiln('ir', 'examples/mlp.ts', '--stage', 'wasm');
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^;; k0: SIMD: 4 outputs along o1 per vector/m);
    expect(r.stdout).toContain('(func $k0 (param $batch i32)');
    expect(r.stdout).toContain('f32x4.mul');
    // mlp's softmax has row kernels (simd-rows.ts) since, so none of its kernels stays JavaScript.
    expect(r.stdout).toMatch(/;; JavaScript only: none$/m);
  });

  it('ir --stage wasm lists a blocked product over a weight as the module runs it: reading its copy packed once per weight set', async () => {
    // cnn's dense_1 (k3) multiplies by a 5408 × 128 weight (2.7 MB), too large for the L2 cache: blocked.
    const r = await kiln('ir', 'examples/cnn.ts', '--stage', 'wasm');
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^;; k3: SIMD: .*Blocked for the cache .* of its copy packed once per weight set/m);
  });

  it('fails with exit 1 and a clear message: unknown backend, no default export, missing file', async () => {
    const fixtures = path.join(ROOT, 'test', '.out', 'cli-fixtures');
    mkdirSync(fixtures, { recursive: true });
    const noDefault = path.join(fixtures, 'no-default.ts');
    writeFileSync(noDefault, '// A module that exports no model.\nexport const notAModel = 1;\n');
    const [backend, nodef, missing] = await Promise.all([
      kiln('compile', 'examples/mlp.ts', '--backend', 'wasm', '--out', path.join('test', '.out', 'cli-never')),
      kiln('check', path.relative(ROOT, noDefault)),
      kiln('summary', 'examples/does-not-exist.ts'),
    ]);
    expect(backend.status, show(backend)).toBe(1);
    expect(backend.stderr).toMatch(/unknown backend 'wasm'/);
    expect(backend.stderr).toContain('js');
    expect(existsSync(path.join(ROOT, 'test', '.out', 'cli-never'))).toBe(false);

    expect(nodef.status, show(nodef)).toBe(1);
    expect(nodef.stderr).toMatch(/no-default\.ts must `export default` a model/);
    expect(nodef.stderr).toContain('missing');

    expect(missing.status, show(missing)).toBe(1);
    expect(missing.stderr).toMatch(/not found: examples\/does-not-exist\.ts/);
    for (const r of [backend, nodef, missing]) expect(r.stderr, show(r)).not.toMatch(/^\s+at /m);
  });
});

describe('kiln --json and kiln conformance', () => {
  it('check --json: one object with the layers, parameters and output shapes; a failure is JSON too, exit 1', async () => {
    const [good, bad, usage] = await Promise.all([kiln('check', 'examples/mlp.ts', '--json'), kiln('check', 'examples/lenet-bug.ts', '--json'), kiln('check', 'examples/mlp.ts', '--json', '--no-such-option')]);
    expect(good.status, show(good)).toBe(0);
    // mlp: 784 → 64 → 64 → 10, each dense with a bias.
    expect(JSON.parse(good.stdout)).toEqual({ ok: true, command: 'check', model: 'mlp', layers: 4, parameters: 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10, outputs: [{ name: 'output', dtype: 'float32', shape: ['N', 10] }] });
    expect(bad.status, show(bad)).toBe(1);
    const failure = JSON.parse(bad.stdout) as { ok: boolean; exitCode: number; error: { message: string; kind: string } };
    expect(failure).toMatchObject({ ok: false, command: 'check', exitCode: 1, error: { kind: 'user' } });
    expect(failure.error.message).toContain('examples/lenet-bug.ts:9');
    expect(usage.status, show(usage)).toBe(2);
    expect(JSON.parse(usage.stdout)).toMatchObject({ ok: false, command: 'check', exitCode: 2, error: { kind: 'usage', message: "unknown option '--no-such-option'" } });
  });

  it('compile --json names the files it wrote, and they exist', async () => {
    const out = path.join('test', '.out', 'cli-json');
    rmSync(path.join(ROOT, out), { recursive: true, force: true });
    const r = await kiln('compile', 'examples/mlp.ts', '--train', '--out', out, '--json');
    expect(r.status, show(r)).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; model: string; train: boolean; kernels: number; files: Record<string, string> };
    expect(report).toMatchObject({ ok: true, command: 'compile', model: 'mlp', backend: 'js', train: true });
    expect(report.kernels).toBeGreaterThan(0);
    expect(Object.keys(report.files).length).toBeGreaterThanOrEqual(2);
    for (const f of Object.values(report.files)) expect(existsSync(path.join(ROOT, f)), f).toBe(true);
    expect(r.stderr).toBe(''); // stages show only on a terminal
  }, 60_000);

  const cases = path.resolve(ROOT, '..', 'shared', 'onnx-node-tests');
  it.skipIf(!existsSync(path.join(cases, 'test_abs')))('conformance --only test_abs --json: one passing case; text mode prints a line per case and a summary', async () => {
    const out = path.join('test', '.out', 'cli-conformance');
    const [json, text] = await Promise.all([
      kiln('conformance', cases, '--only', 'test_abs', '--json', '--out', out),
      kiln('conformance', cases, '--only', 'test_abs,test_no_such_case', '--out', `${out}-text`),
    ]);
    expect(json.status, show(json)).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, command: 'conformance', backend: 'js', passed: 1, failed: 0, unsupported: 0, results: [{ name: 'test_abs', status: 'pass' }] });
    expect(text.status, show(text)).toBe(1); // the missing case fails the run
    expect(text.stdout.trim().split('\n')).toEqual(['PASS test_abs', 'FAIL test_no_such_case (no such case folder)', '1 passed, 1 failed, 0 unsupported']);
  }, 120_000);
});

describe("compile's stage line", () => {
  const fakeStream = (isTTY: boolean) => {
    const written: string[] = [];
    return { stream: { isTTY, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream, written };
  };
  it('on a terminal: each stage overwrites the line, done() clears it', () => {
    const { stream, written } = fakeStream(true);
    const stage = stageLine(stream);
    stage('checking');
    stage('compiling 8 kernels');
    stage.done();
    stage.done(); // once only
    expect(written).toEqual(['\r\x1b[Kchecking…', '\r\x1b[Kcompiling 8 kernels…', '\r\x1b[K']);
  });
  it('not a terminal (a pipe, a file): nothing', () => {
    const { stream, written } = fakeStream(false);
    const stage = stageLine(stream);
    stage('checking');
    stage.done();
    expect(written).toEqual([]);
  });
});
