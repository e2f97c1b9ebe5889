// The benchmark report's history column (bench/history.ts): Kiln's previous figure per workload
// read from bench/history.json, shown beside today's with their ratio, and updated by full runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { change, historySection, historyText, loadHistory, mergeHistory, type History } from '../../bench/history.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fmt = (v: number) => v.toFixed(1);
const before: History = {
  kiln: {
    mm1024: { value: 20, unit: 'GFLOP/s', date: '2026-11-23T09:50:19Z', command: 'npm run bench' },
    'cnn-infer-b64': { value: 5000, unit: 'samples/s', date: '2026-11-23T09:50:19Z', command: 'npm run bench' },
  },
};

describe('bench history', () => {
  it('reads nothing when there is no file yet, and says what it expected of a broken one', () => {
    expect(loadHistory(path.join(dir, 'none.json'))).toEqual({});
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"kiln": {"mm128": {"value": "fast"}}}');
    expect(() => loadHistory(bad)).toThrow(/kiln\.mm128 has no positive "value"/);
    writeFileSync(bad, 'not json');
    expect(() => loadHistory(bad)).toThrow(/is not JSON/);
  });

  it('writes a file it reads back, the explanation left out', () => {
    const file = path.join(dir, 'history.json');
    writeFileSync(file, historyText(before));
    expect(loadHistory(file)).toEqual(before);
  });

  it("replaces the figures measured today and keeps the others", () => {
    const next = mergeHistory(before, [{ engine: 'kiln', workload: 'mm1024', title: 'matmul 1024', unit: 'GFLOP/s', value: 25 }], '2026-12-02T00:00:00Z', 'npm run bench');
    expect(next.kiln.mm1024).toEqual({ value: 25, unit: 'GFLOP/s', date: '2026-12-02T00:00:00Z', command: 'npm run bench' });
    expect(next.kiln['cnn-infer-b64'].value).toBe(5000);
    expect(before.kiln.mm1024.value).toBe(20); // the history read is not changed in place
  });

  it('gives today ÷ before, in bold below 0.9', () => {
    expect(change(18, 20)).toBe('0.90×');
    expect(change(17, 20)).toBe('**0.85×**');
    expect(change(30, 20)).toBe('1.50×');
    expect(change(undefined, 20)).toBe('');
  });

  it('puts the previous figure and its date beside today, per workload and thread count', () => {
    const lines = historySection(
      before,
      [
        { engine: 'kiln', workload: 'mm1024', title: 'matmul 1024', unit: 'GFLOP/s', value: 15 },
        { engine: 'kiln-2t', workload: 'mm1024', title: 'matmul 1024', unit: 'GFLOP/s', value: 30 },
      ],
      [{ id: 'mm1024', title: 'matmul 1024', unit: 'GFLOP/s' }, { id: 'lstm-infer-b32', title: 'LSTM', unit: 'samples/s' }],
      fmt,
    );
    expect(lines).toContain('| matmul 1024 | GFLOP/s | 15.0 | 20.0 (2026-11-23) | **0.75×** | 30.0 | — |  |');
    expect(lines).toContain('| LSTM | samples/s | — | — |  | — | — |  |');
  });
});
