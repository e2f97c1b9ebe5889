// PyTorch (CPU): runs bench/torch/engine.py under the first Python that imports torch, with the
// run's spec; `--threads N` gives it N intra-op threads (default 1). Without PyTorch it reports
// every workload as skipped, with how to install it, instead of failing the run.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spec } from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf('--threads');
const threads = i >= 0 ? Number(process.argv[i + 1]) : 1;

/** KILN_BENCH_PYTHON when set; else Debian's python3-torch under /usr/bin/python3 (a pyenv or venv python3 on PATH may lack it). */
const candidates = process.env.KILN_BENCH_PYTHON ? [process.env.KILN_BENCH_PYTHON] : ['/usr/bin/python3', 'python3'];
const python = candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0);

if (!python) {
  const why = `PyTorch not found (no \`import torch\` in ${candidates.join(', ')}): \`npm run bench:setup -- --torch\` installs Debian's python3-torch`;
  const results = Object.fromEntries(spec.workloads.map((w) => [w.id, { unsupported: why }]));
  process.stdout.write(`\n@@RESULT ${JSON.stringify({ engine: { name: 'torch' }, results })}\n`);
  process.exit(0);
}
const r = spawnSync(python, [path.join(here, '..', 'torch', 'engine.py'), process.argv[2], String(threads)], {
  stdio: 'inherit',
  // Passive OpenMP workers: on a busy machine spinning workers lose their time slices (2 threads
  // ran matmul 512 at 10 GFLOP/s spinning, 27 passive, 35 on one thread, under load 14).
  env: { OMP_WAIT_POLICY: 'PASSIVE', ...process.env, OMP_NUM_THREADS: String(threads) },
});
process.exit(r.status ?? 1);
