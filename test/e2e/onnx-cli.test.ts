// The CLI's commands accept .onnx files: check, summary and compile go through the ONNX importer.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkCommand, compileCommand, summaryCommand } from '../../cli/commands.ts';
import { KilnError } from '../../src/ir/errors.ts';

const cases = path.resolve('../shared/onnx-node-tests');
const present = existsSync(cases);

describe.skipIf(!present)('kiln check / summary / compile on .onnx files', () => {
  it('checks, summarises and compiles an ONNX Gemm; the module computes A·B + C', async () => {
    const file = path.join(cases, 'test_gemm_default_matrix_bias', 'model.onnx');
    expect(await checkCommand(file)).toMatch(/^ok: /);
    expect(await summaryCommand(file, false)).toContain('Gemm');
    const out = path.resolve('test/.out/onnx-cli');
    await compileCommand(file, { backend: 'js', out, seed: 0 });
    const mod = await import(pathToFileURL(path.join(out, 'test_gemm_default_matrix_bias.mjs')).href);
    const [a, b, c] = mod.inputs as { name: string; shape: number[] }[];
    const [m, k] = a.shape;
    const n = b.shape[1];
    const fill = (len: number, s: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * s));
    const A = fill(m * k, 0.7);
    const B = fill(k * n, 1.3);
    const C = fill(c.shape.reduce((p, d) => p * d, 1), 2.1);
    const y = Object.values(mod.createModel().run({ [a.name]: A, [b.name]: B, [c.name]: C }, 1))[0] as Float32Array;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += A[i * k + t] * B[t * n + j];
        const bias = C.length === 1 ? C[0] : C.length === n ? C[j] : C[i * n + j];
        expect(y[i * n + j]).toBeCloseTo(s + bias, 4);
      }
    }
  });

  it('a corrupt .onnx file is a KilnError, not a crash', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-onnx-'));
    const file = path.join(dir, 'bad.onnx');
    writeFileSync(file, Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) % 256));
    await expect(checkCommand(file)).rejects.toThrow(KilnError);
  });
});
