// Regression test: every ONNX node-test case listed in expected-pass.txt must still pass.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatResult, REPO_ROOT, runConformance } from '../../compiler/conformance/run.ts';

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
});
