// Regression test: every ONNX node-test case listed in expected-pass.txt must still pass on the
// JavaScript backend; every third of them (the string cases excepted) on the GPU.js backend too.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatResult, REPO_ROOT, runConformance } from '../../cli/conformance/run.ts';

const CASES = path.resolve(REPO_ROOT, '..', 'shared', 'onnx-node-tests');
const EXPECTED = readFileSync(new URL('./expected-pass.txt', import.meta.url), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('ONNX conformance (../shared/onnx-node-tests)', () => {
  if (!existsSync(CASES)) {
    it.skip(`skipped: ${CASES} is absent (the ONNX backend node tests are not checked in here)`, () => {});
    return;
  }

  it(`still passes the ${EXPECTED.length} cases of expected-pass.txt`, async () => {
    const results = await runConformance(CASES, { only: EXPECTED, outDir: path.join(REPO_ROOT, 'test', '.out', 'onnx-conformance') });
    const regressions = results.filter((r) => r.status !== 'pass').map(formatResult);
    expect(regressions).toEqual([]);
  }, 300_000);

  // GPU.js modules take no strings; the sample keeps this under a minute.
  const GPU_SAMPLE = EXPECTED.filter((name, i) => i % 3 === 0 && !name.includes('string'));
  it(`passes ${GPU_SAMPLE.length} of those cases on the GPU.js backend (webasm, float32)`, async () => {
    const results = await runConformance(CASES, { only: GPU_SAMPLE, backend: 'gpujs', gpu: 'webasm', outDir: path.join(REPO_ROOT, 'test', '.out', 'onnx-conformance-gpujs') });
    expect(results.filter((r) => r.status !== 'pass').map(formatResult)).toEqual([]);
  }, 300_000);
});
