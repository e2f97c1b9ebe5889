// The machine a report was measured on, precisely enough to tell two apart: a cloud VM often names
// its CPU only "AMD EPYC", and figures from a Zen 4 host and a Zen 5 one differ by about 2× (and
// onnxruntime's by more where AVX-512 is hidden from the guest).
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** "AMD EPYC (family 25, model 17; AVX-512: no), 2 logical CPUs" from /proc/cpuinfo, else what os.cpus() says. */
export function machineDescription(): string {
  let info = '';
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // Not Linux: the model name is all there is.
  }
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(info)?.[1]?.trim();
  const name = field('model name') ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const family = field('cpu family');
  const model = field('model');
  const detail = family && model ? ` (family ${family}, model ${model}; AVX-512: ${/\bavx512f\b/.test(info) ? 'yes' : 'no'})` : '';
  return `${name}${detail}, ${os.cpus().length} logical CPUs`;
}
