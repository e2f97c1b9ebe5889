// `kiln train --history`: the fit history as JSON (epochs with losses, metrics, rates and timings;
// why it stopped), written atomically.
import path from 'node:path';
import { ensureFolderSync, writeFileAtomicSync } from '../runtime/atomic-write.ts';
import type { History } from '../runtime/train-loop.ts';

/** The history as the file holds it: plain JSON (a stopping error as its message). */
export function historyJson(history: History): string {
  const stopped = history.stopped && { epoch: history.stopped.epoch, reason: history.stopped.reason };
  return `${JSON.stringify({ epochs: history.epochs, ...(stopped ? { stopped } : {}) }, null, 2)}\n`;
}

/** Writes the history to `file` atomically. */
export function writeHistory(file: string, history: History): void {
  ensureFolderSync(path.dirname(file));
  writeFileAtomicSync(file, historyJson(history));
}
