// A fuzz worker thread: runs the cases of a seed range for one target and reports each to the campaign (cli.ts), which watches for hangs.
import { parentPort, workerData } from 'node:worker_threads';
import { runSeed } from './campaign.ts';
import { makeTarget, type TargetName } from './targets.ts';

/** What the campaign asks of a worker. */
export interface WorkerTask {
  target: TargetName;
  seeds: number[];
  /** Failure keys already shrunk enough times; others are shrunk (at most `shrinkPerKey` each). */
  shrunk: Record<string, number>;
  shrinkPerKey: number;
  /** Time allowed for minimising one failure. */
  shrinkMs: number;
}

/** Messages a worker sends: a case begins, a shrink step runs (a heartbeat), a case ends. */
export type WorkerMessage =
  | { type: 'start'; seed: number }
  | { type: 'beat' }
  | { type: 'done'; seed: number; key: string; ms: number; message?: string; minimal?: { mutant: unknown; key: string } }
  | { type: 'finished' };

const task = workerData as WorkerTask;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const target = await makeTarget(task.target);
const shrunk = new Map(Object.entries(task.shrunk));
for (const seed of task.seeds) {
  post({ type: 'start', seed });
  // Shrink a failure only while its class (known after judging) has few minimised examples.
  const first = await runSeed(target, seed, { shrink: false });
  let report = first;
  if (first.outcome.kind === 'failure' && (shrunk.get(first.key) ?? 0) < task.shrinkPerKey) {
    shrunk.set(first.key, (shrunk.get(first.key) ?? 0) + 1);
    report = await runSeed(target, seed, { shrinkMs: task.shrinkMs, onStep: () => post({ type: 'beat' }) });
  }
  const o = report.outcome;
  post({ type: 'done', seed, key: first.key, ms: report.ms, message: o.kind === 'failure' || o.kind === 'error' ? o.message : undefined, minimal: report.minimal });
}
post({ type: 'finished' });
