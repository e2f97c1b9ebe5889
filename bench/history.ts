// The benchmark's memory: Kiln's figure per workload from the last full run (bench/history.json),
// shown beside today's in the report so that a slowdown is visible, and updated by full runs.
import { existsSync, readFileSync } from 'node:fs';

/** One workload's Kiln throughput in one run. */
export interface HistoryEntry { value: number; unit: string; date: string; command: string }
/** Kiln engine id (kiln, kiln-2t) → workload id → its figure in the last full run. */
export type History = Record<string, Record<string, HistoryEntry>>;
/** Today's figure for one engine and workload. */
export interface Figure { engine: string; workload: string; title: string; unit: string; value: number }

/** Below this ratio of today's figure to the previous one a cell is set in bold (rounds on the shared machine vary by ±30 %). */
export const SLOWER = 0.9;

/** The history file, or an empty history when there is none yet. */
export function loadHistory(file: string): History {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not JSON (${(e as Error).message}); expected { "kiln": { "<workload>": { "value", "unit", "date", "command" } } }`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file}: expected an object of engines, got ${JSON.stringify(parsed).slice(0, 40)}`);
  const history: History = {};
  for (const [engine, rows] of Object.entries(parsed as Record<string, unknown>)) {
    if (engine === 'about') continue;
    history[engine] = {};
    for (const [workload, e] of Object.entries(rows as Record<string, HistoryEntry>)) {
      if (!(typeof e?.value === 'number' && e.value > 0)) throw new Error(`${file}: ${engine}.${workload} has no positive "value"`);
      history[engine][workload] = e;
    }
  }
  return history;
}

/** The history with today's figures in place of the old ones (workloads not run today keep theirs). */
export function mergeHistory(history: History, figures: Figure[], date: string, command: string): History {
  const next: History = Object.fromEntries(Object.entries(history).map(([k, v]) => [k, { ...v }]));
  for (const f of figures) (next[f.engine] ??= {})[f.workload] = { value: f.value, unit: f.unit, date, command };
  return next;
}

/** history.json's text: an explanation first, then the engines, workloads in a stable order. */
export function historyText(history: History): string {
  const sorted = Object.fromEntries(Object.entries(history).map(([engine, rows]) => [engine, Object.fromEntries(Object.entries(rows).sort(([a], [b]) => a.localeCompare(b)))]));
  const about = "Kiln's throughput per workload in the last run that measured it, with that run's command (full runs of `npm run bench` rewrite it; runs with --only read it and leave it alone); bench/results.md shows it beside each new run's. Commit it with bench/results.md.";
  return `${JSON.stringify({ about, ...sorted }, null, 2)}\n`;
}

/** "0.97×", in bold below SLOWER; empty when either figure is missing. */
export function change(now: number | undefined, before: number | undefined): string {
  if (now === undefined || before === undefined) return '';
  const r = now / before;
  return r < SLOWER ? `**${r.toFixed(2)}×**` : `${r.toFixed(2)}×`;
}

/**
 * The report's history section: per workload, Kiln's figure today, in the previous full run and
 * their ratio, for one thread and for two. `order` lists today's workloads (id, title, unit).
 */
export function historySection(history: History, figures: Figure[], order: { id: string; title: string; unit: string }[], fmt: (v: number) => string): string[] {
  const now = (engine: string, id: string) => figures.find((f) => f.engine === engine && f.workload === id)?.value;
  const cell = (v: number | undefined) => (v === undefined ? '—' : fmt(v));
  const before = (engine: string, id: string) => {
    const e = history[engine]?.[id];
    return e ? `${fmt(e.value)} (${e.date.slice(0, 10)})` : '—';
  };
  const lines = [
    '## Kiln today and before (bench/history.json: the last run that measured each workload)',
    '',
    `Today ÷ before above 1: faster today; in bold below ${SLOWER} (single rounds on the shared machine move by up to ±30 %, so compare over several rounds before calling it a slowdown).`,
    '',
    '| workload | unit | Kiln today | before | today ÷ before | Kiln 2 threads today | before | today ÷ before |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const w of order) {
    const [k1, k2] = [now('kiln', w.id), now('kiln-2t', w.id)];
    lines.push(`| ${w.title} | ${w.unit} | ${cell(k1)} | ${before('kiln', w.id)} | ${change(k1, history.kiln?.[w.id]?.value)} | ${cell(k2)} | ${before('kiln-2t', w.id)} | ${change(k2, history['kiln-2t']?.[w.id]?.value)} |`);
  }
  lines.push('');
  return lines;
}
