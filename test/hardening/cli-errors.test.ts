// Ordinary mistakes on the command line, each as a real `kiln` process: one line `error: …` that
// says what is wrong, exit 1 (2 for usage errors), no stack trace unless --verbose, and no hang.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeFailure } from '../../cli/errors.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { freshOutDir, ROOT, showRun, type KilnRun } from '../e2e/helpers.ts';

/** `node bin/kiln.js …args`, killed after `seconds` (a hang is a failure, not a stuck suite). */
function kiln(args: string[], seconds = 60): Promise<KilnRun & { timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'kiln.js'), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let [stdout, stderr, timedOut] = ['', '', false];
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, seconds * 1000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, timedOut });
    });
  });
}

/** Exactly one line on stderr, starting `error: `, matching `pattern`; the exit code `code`. */
function expectOneLine(r: KilnRun & { timedOut: boolean }, code: number, pattern: RegExp): void {
  expect(r.timedOut, showRun(r)).toBe(false);
  expect(r.status, showRun(r)).toBe(code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, showRun(r)).toHaveLength(1);
  expect(lines[0], showRun(r)).toMatch(/^error: /);
  expect(lines[0], showRun(r)).toMatch(pattern);
}

describe('kiln: one line per mistake', () => {
  let dir: string;
  const rel = (f: string) => path.relative(ROOT, path.join(dir, f));
  beforeAll(() => {
    dir = freshOutDir('hardening-cli-errors');
    mkdirSync(path.join(dir, 'models'));
    writeFileSync(path.join(dir, 'README.md'), '# not a model\n');
    writeFileSync(path.join(dir, 'syntax.ts'), "import { layers } from 'kiln';\nexport default layers.dense(3 +;\n");
    writeFileSync(path.join(dir, 'fake.ts'), "// Looks like a model to a quick check, is not one.\nexport default { kind: 'kiln.model', graph: 42 };\n");
    writeFileSync(path.join(dir, 'fake-nodes.ts'), "export default { kind: 'kiln.model', graph: { name: 'f', inputs: [], outputs: [{ name: 'y', node: { op: 'relu' } }] } };\n");
    writeFileSync(path.join(dir, 'throws.ts'), "const size = 3;\nif (size > 2) throw new RangeError('my model is broken');\nexport default size;\n");
    writeFileSync(path.join(dir, 'a-file'), 'in the way\n');
  });

  it('a folder, a README, a syntax error, a fake default export, a model that throws', async () => {
    const [folder, readme, syntax, fake, fakeNodes, throws] = await Promise.all([
      kiln(['check', rel('models')]),
      kiln(['summary', rel('README.md')]),
      kiln(['check', rel('syntax.ts')]),
      kiln(['check', rel('fake.ts')]),
      kiln(['compile', rel('fake-nodes.ts'), '--out', rel('never')]),
      kiln(['check', rel('throws.ts')]),
    ]);
    expectOneLine(folder, 1, /models is a folder, not a model file/);
    expectOneLine(readme, 1, /README\.md is not a model file \(\.md\)/);
    expectOneLine(syntax, 1, /syntax error in the model file: .*syntax\.ts:2:\d+: /);
    expectOneLine(fake, 1, /fake\.ts: the default export is not a model .*graph is a number/);
    expectOneLine(fakeNodes, 1, /fake-nodes\.ts: the default export is not a model .*node/);
    expectOneLine(throws, 1, /throws\.ts failed while it ran: RangeError: my model is broken \(at .*throws\.ts:2:\d+\)/);
  }, 120_000);

  it('--out on a file, under /proc, a name too long; --save on a folder', async () => {
    const long = `${'x'.repeat(300)}.bin`;
    const [outFile, proc, tooLong, saveFolder] = await Promise.all([
      kiln(['compile', 'examples/mlp.ts', '--out', rel('a-file')]),
      kiln(['compile', 'examples/mlp.ts', '--out', '/proc/kiln-x'], 30),
      kiln(['train', 'examples/mlp.ts', '--limit', '10', '--out', rel('t'), '--save', rel(long)]),
      kiln(['train', 'examples/mlp.ts', '--limit', '10', '--out', rel('t'), '--save', rel('models')]),
    ]);
    expectOneLine(outFile, 1, /a-file is a file, not a folder/);
    expectOneLine(proc, 1, /cannot create the folder \/proc\/kiln-x/);
    expectOneLine(tooLong, 1, /the name is too long.*\(ENAMETOOLONG\)/);
    expectOneLine(saveFolder, 1, /models: it is a folder, not a file/);
    for (const r of [tooLong, saveFolder]) expect(r.stdout, 'checked before compiling or training').not.toMatch(/training on/);
  }, 120_000);

  it('a port in use for demo-browser, before any build', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await kiln(['demo-browser', '--port', String(port), '--out', rel('demo')], 60);
      expectOneLine(r, 1, new RegExp(`127\\.0\\.0\\.1:${port}: the port is already in use`));
    } finally {
      blocker.close();
    }
  }, 90_000);

  it('usage errors exit 2; --verbose adds the stack', async () => {
    const [unknown, missing, badNumber, verbose] = await Promise.all([
      kiln(['compile', 'examples/mlp.ts', '--no-such-option']),
      kiln(['check']),
      kiln(['train', 'examples/mlp.ts', '--epochs', 'many']),
      kiln(['check', rel('fake.ts'), '--verbose']),
    ]);
    expectOneLine(unknown, 2, /unknown option '--no-such-option'/);
    expectOneLine(missing, 2, /missing required argument 'model'/);
    expect(badNumber.status, showRun(badNumber)).toBe(2);
    expect(verbose.status, showRun(verbose)).toBe(1);
    expect(verbose.stderr).toMatch(/^error: .*fake\.ts/);
    expect(verbose.stderr).toMatch(/^\s+at /m);
  }, 120_000);
});

describe('describeFailure', () => {
  it('a Kiln error is a user error; a TypeError from Kiln is an internal error that asks for a report', () => {
    expect(describeFailure(new KilnError('bad shape'))).toEqual({ line: 'error: bad shape', code: 1, internal: false });
    const bug = describeFailure(new TypeError("Cannot read properties of undefined (reading 'shape')"));
    expect(bug.internal).toBe(true);
    expect(bug.code).toBe(1);
    expect(bug.line).toMatch(/^internal error: TypeError: Cannot read properties/);
    expect(bug.line).toMatch(/bug in Kiln.*please report it/);
  });

  it('a system error names the call, the path and the reason in one line', () => {
    const e = Object.assign(new Error("ENOSPC: no space left on device, write '/data/x.bin'"), { code: 'ENOSPC', syscall: 'write', path: '/data/x.bin' });
    expect(describeFailure(e)).toEqual({ line: 'error: write /data/x.bin: no space left on the device: free some space or write elsewhere (ENOSPC)', code: 1, internal: false });
  });
});
