// No saved work is lost: atomic writes under a file-size limit, `kiln train` under SIGINT (with and
// without checkpoints), output paths checked before training, the chunked loop equal to `fit`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkWritableFile, ensureFolderSync, writeFileAtomicSync } from '../../runtime/atomic-write.ts';
import { FileError } from '../../runtime/file-errors.ts';
import { loadMnist } from '../../runtime/mnist.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { compileTrainer } from '../../cli/train.ts';
import { runTraining, type EmittedTrainer } from '../../cli/train-run.ts';
import { freshOutDir, loadExampleGraph, ROOT, showRun, type KilnRun } from '../e2e/helpers.ts';

const KILN = path.join(ROOT, 'bin', 'kiln.js');
const rel = (f: string) => path.relative(ROOT, f);

/** A `kiln` process; `onLine` sees each stdout line and may signal the child. */
function kilnProcess(command: string, args: string[], onLine?: (line: string, kill: (signal: NodeJS.Signals) => void) => void): Promise<KilnRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let [stdout, stderr, pending] = ['', '', ''];
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine?.(line, (s) => child.kill(s));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const kiln = (args: string[], onLine?: Parameters<typeof kilnProcess>[2]) => kilnProcess(process.execPath, [KILN, ...args], onLine);
/** Leftover temporary files of atomic writes in `dir`. */
const temps = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
const QUICK = ['--epochs', '1', '--batch-size', '64', '--seed', '1'];

describe('atomic writes', () => {
  it('replace a file whole, and on failure leave the old one and no temporary file', () => {
    const dir = freshOutDir('hardening-atomic');
    const file = path.join(dir, 'state.bin');
    writeFileAtomicSync(file, new Uint8Array([1, 2, 3]));
    writeFileAtomicSync(file, 'four');
    expect(readFileSync(file, 'utf8')).toBe('four');
    // Renaming over a non-empty folder fails after the bytes were written.
    mkdirSync(path.join(dir, 'occupied'));
    writeFileSync(path.join(dir, 'occupied', 'x'), '');
    expect(() => writeFileAtomicSync(path.join(dir, 'occupied'), 'new')).toThrow(FileError);
    expect(() => writeFileAtomicSync(path.join(dir, 'occupied'), 'new')).toThrow(/^cannot write .*occupied: .*\((EISDIR|ENOTEMPTY|EEXIST)\)$/);
    expect(temps(dir)).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe('four');
  });

  it('check output paths: a folder, a name too long, a path under a file, and /proc (without hanging)', () => {
    const dir = freshOutDir('hardening-paths');
    writeFileSync(path.join(dir, 'file'), '');
    expect(() => checkWritableFile(dir)).toThrow(/it is a folder, not a file/);
    expect(() => checkWritableFile(path.join(dir, 'n'.repeat(300)))).toThrow(/ENAMETOOLONG/);
    expect(() => checkWritableFile(path.join(dir, 'file', 'x.bin'))).toThrow(/is a file, not a folder/);
    expect(() => ensureFolderSync('/proc/kiln-no-such/deeper')).toThrow(/cannot create the folder/);
    checkWritableFile(path.join(dir, 'new', 'deeper', 'x.bin'));
    expect(existsSync(path.join(dir, 'new', 'deeper'))).toBe(true);
  });
});

describe('kiln train keeps saved work', () => {
  it('under a file-size limit, an earlier good save survives byte for byte', async () => {
    const dir = freshOutDir('hardening-fsize');
    const save = path.join(dir, 'trained.bin');
    const first = await kiln(['train', 'examples/mlp256.ts', ...QUICK, '--limit', '300', '--out', rel(dir), '--save', rel(save)]);
    expect(first.status, showRun(first)).toBe(0);
    const good = readFileSync(save);
    expect(good.length).toBeGreaterThan(1_300_000); // mlp256 with Adam's state: ~2.4 MB
    // 1200 blocks (512 or 1024 bytes, by shell): room for the module (~120 kB), not for the weights.
    const limited = await kilnProcess('sh', ['-c', `ulimit -f 1200 && exec "${process.execPath}" "${KILN}" train examples/mlp256.ts ${QUICK.join(' ')} --limit 300 --seed 2 --out ${rel(dir)} --save ${rel(save)}`]);
    expect(limited.status, showRun(limited)).toBe(1);
    expect(limited.stderr.trimEnd().split('\n'), showRun(limited)).toEqual([expect.stringMatching(/^error: cannot write .*trained\.bin: .*file-size limit.*\(EFBIG\)$/)]);
    expect(readFileSync(save).equals(good)).toBe(true);
    expect(temps(dir)).toEqual([]);
  }, 180_000);

  it('Ctrl-C during training: exit 130, one line, the earlier --save file untouched', async () => {
    const dir = freshOutDir('hardening-sigint');
    const save = path.join(dir, 'trained.bin');
    writeFileSync(save, 'an earlier good file');
    let sent = false;
    const r = await kiln(['train', 'examples/mlp256.ts', '--epochs', '500', '--limit', '1000', '--out', rel(dir), '--save', rel(save)], (line, kill) => {
      if (!sent && line.startsWith('training on')) {
        sent = true;
        setTimeout(() => kill('SIGINT'), 300);
      }
    });
    expect(sent, showRun(r)).toBe(true);
    expect(r.status, showRun(r)).toBe(130);
    expect(r.stderr.trimEnd().split('\n'), showRun(r)).toEqual([expect.stringMatching(/^interrupted: training stopped in epoch \d+ at batch \d+; nothing was saved$/)]);
    expect(readFileSync(save, 'utf8')).toBe('an earlier good file');
    expect(temps(dir)).toEqual([]);
  }, 180_000);

  it('Ctrl-C after a checkpoint keeps that complete checkpoint, which loads and resumes at its step', async () => {
    const dir = freshOutDir('hardening-checkpoint');
    const save = path.join(dir, 'trained.bin');
    let sent = false;
    const r = await kiln(['train', 'examples/mlp256.ts', '--epochs', '500', '--limit', '1000', '--batch-size', '100', '--checkpoint-every', '2', '--out', rel(dir), '--save', rel(save)], (line, kill) => {
      if (!sent && line.startsWith('checkpoint after epoch 2:')) {
        sent = true;
        kill('SIGINT');
      }
    });
    expect(sent, showRun(r)).toBe(true);
    expect(r.status, showRun(r)).toBe(130);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, showRun(r)).toHaveLength(1);
    const kept = /^interrupted: training stopped in epoch \d+ at batch \d+; the checkpoint after epoch (\d+) is in (.+)$/.exec(lines[0]);
    expect(kept, showRun(r)).not.toBeNull();
    expect(path.resolve(ROOT, kept![2])).toBe(save);
    const epochs = Number(kept![1]);
    expect(epochs % 2).toBe(0);
    // The file is complete (its checksum holds) and a trainer resumes from it: 10 steps per epoch of 1000/100.
    const bytes = new Uint8Array(readFileSync(save));
    expect(() => decodeWeights(bytes)).not.toThrow();
    const mod = (await import(pathToFileURL(path.join(dir, 'mlp256.mjs')).href)) as { createTrainer(o: { weights: Uint8Array }): EmittedTrainer & { steps: number } };
    expect(mod.createTrainer({ weights: bytes }).steps).toBe(epochs * 10);
    expect(temps(dir)).toEqual([]);
  }, 180_000);

  it('a bad --png path fails before training; the save comes before evaluation', async () => {
    const dir = freshOutDir('hardening-png');
    writeFileSync(path.join(dir, 'file'), '');
    const [bad, good] = await Promise.all([
      kiln(['train', 'examples/mlp256.ts', ...QUICK, '--limit', '200', '--out', rel(path.join(dir, 'a')), '--png', rel(path.join(dir, 'file', 'p.png'))]),
      kiln(['train', 'examples/mlp256.ts', ...QUICK, '--limit', '200', '--out', rel(path.join(dir, 'b')), '--save', rel(path.join(dir, 'b.bin'))]),
    ]);
    expect(bad.status, showRun(bad)).toBe(1);
    expect(bad.stderr.trimEnd().split('\n'), showRun(bad)).toEqual([expect.stringMatching(/^error: cannot use the folder .*file: .*file is a file, not a folder$/)]);
    expect(bad.stdout).not.toMatch(/training on|compiled/);
    expect(good.status, showRun(good)).toBe(0);
    const order = ['saved weights', 'test accuracy', 'wrote'].map((p) => good.stdout.indexOf(`\n${p}`));
    expect(order.every((i) => i > 0), showRun(good)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  }, 180_000);
});

describe("kiln train's interruptible loop", () => {
  it('trains exactly as trainer.fit does: same order, same weights to the bit', async () => {
    const graph = await loadExampleGraph('mlp');
    const spec = { loss: { kind: 'sparseCategoricalCrossEntropy' as const, fromLogits: true }, optimizer: { kind: 'adam' as const, lr: 1e-3 } };
    const out = freshOutDir('hardening-loop');
    const { trainer: a } = await compileTrainer(graph, spec, out, 4);
    const { trainer: b } = await compileTrainer(graph, spec, out, 4);
    const m = loadMnist('train', { limit: 700 }); // 700 / 32: a short last batch, and more batches than one chunk
    const data = { x: m.images, y: m.labels, count: m.count };
    a.fit(data, { epochs: 2, batchSize: 32, shuffle: true, seed: 9 });
    const run = await runTraining(b, data, { epochs: 2, batchSize: 32, seed: 9, stopRequested: () => false });
    expect(run.stopped).toBeUndefined();
    expect(run.logs).toHaveLength(2);
    const [wa, wb] = [decodeWeights(a.save()).tensors, decodeWeights(b.save()).tensors];
    expect(wb.map((t) => t.name)).toEqual(wa.map((t) => t.name));
    wa.forEach((t, i) => expect(Array.from(wb[i].data), t.name).toEqual(Array.from(t.data)));
  }, 120_000);
});
