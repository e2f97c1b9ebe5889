// Every emitted module states, first thing at import, the runtime contract it was compiled for
// (runtime/contract.ts); a kiln/runtime implementing another one refuses it in one line instead of
// running kernels whose memory layout it does not share (a packed weight written past its buffer).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { RUNTIME_CONTRACT } from '../../runtime/contract.ts';
import { layers, sequential } from '../../src/index.ts';
import { freshOutDir } from '../e2e/helpers.ts';

const graph = () => sequential({ name: 'affine', input: [2] }, [layers.dense(2)]).graph;
const CALL = `checkRuntime(${RUNTIME_CONTRACT});`;

/** Runs `module` (JavaScript) in a fresh Node beside the package (kiln/runtime resolves) and reports what importing and predicting did. */
function importIn(dir: string, name: string, module: string, weights: Uint8Array): { ok: boolean; error: string; lines: number } {
  writeFileSync(path.join(dir, name), module);
  writeFileSync(path.join(dir, 'affine.weights.bin'), weights);
  const script = [
    `let error = '';`,
    `try { const m = await import('./${name}'); m.createModel('affine.weights.bin').predict(Float32Array.of(1, -1), 1); } catch (e) { error = e.name + ': ' + e.message; }`,
    `console.log(JSON.stringify({ ok: !error, error, lines: error.split('\\n').length }));`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; error: string; lines: number };
}

describe('the runtime contract', () => {
  it('every backend and module kind calls checkRuntime with the contract, before anything else it runs', () => {
    const c = compileModel(graph(), { inferenceModule: true });
    const gpu = compileModel(graph(), { backend: 'gpujs' });
    for (const text of [c.js, c.ts, gpu.js]) {
      expect(text.split(CALL)).toHaveLength(2);
      // Only imports (and comments) come before it.
      const before = text.slice(0, text.indexOf(CALL)).split('\n').filter((l) => l.trim() && !/^\s*(import |export type |\/\/|\/\*|\*)/.test(l));
      expect(before, text.slice(0, 400)).toEqual([]);
    }
  });

  it('a module compiled for this contract runs; one compiled for another is refused in one line naming both contracts and what to do', () => {
    const c = compileModel(graph());
    const dir = freshOutDir('runtime-contract');
    expect(importIn(dir, 'same.mjs', c.js, c.weights)).toEqual({ ok: true, error: '', lines: 1 });
    const other = RUNTIME_CONTRACT + 1;
    const r = importIn(dir, 'other.mjs', c.js.replace(CALL, `checkRuntime(${other});`), c.weights);
    expect(r.ok).toBe(false);
    expect(r.lines).toBe(1);
    expect(r.error).toContain('RuntimeContractError');
    expect(r.error).toContain(`contract ${other}`);
    expect(r.error).toContain(`implements contract ${RUNTIME_CONTRACT}`);
    expect(r.error).toMatch(/recompile the model/);
  });
});
