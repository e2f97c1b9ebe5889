// The benchmark's optional PyTorch row: `npm run bench:setup -- --torch` ends here with --torch and
// installs Debian's python3-torch with OpenBLAS (apt-get); without the flag it only says whether
// the row will run. Debian's python3-torch links the generic libblas.so.3, which is the reference
// (unoptimised) BLAS unless an optimised one is installed: libopenblas0-openmp replaces it through
// Debian's alternatives and shares PyTorch's OpenMP threads.
import { spawnSync } from 'node:child_process';

const PACKAGES = ['python3-torch', 'libopenblas0-openmp'];
const candidates = process.env.KILN_BENCH_PYTHON ? [process.env.KILN_BENCH_PYTHON] : ['/usr/bin/python3', 'python3'];
const hasTorch = (p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0;
const found = () => candidates.find(hasTorch);
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

function fail(message) {
  console.error(`bench:setup --torch: ${message}`);
  process.exit(1);
}

/** apt-get as root, or through sudo; retries once after `apt-get update` (fresh images have no lists). */
function aptInstall() {
  if (!onPath('apt-get')) fail(`needs apt-get (Debian or Ubuntu) to install ${PACKAGES.join(', ')}; elsewhere install PyTorch and point KILN_BENCH_PYTHON at its python3`);
  const root = process.getuid?.() === 0;
  if (!root && !onPath('sudo')) fail('apt-get needs root: run it as root or install sudo');
  const apt = (...args) => {
    const [cmd, argv] = root ? ['apt-get', args] : ['sudo', ['apt-get', ...args]];
    return spawnSync(cmd, argv, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  if (apt('install', '-y', '--no-install-recommends', ...PACKAGES)) return;
  if (!(apt('update') && apt('install', '-y', '--no-install-recommends', ...PACKAGES))) fail(`apt-get install ${PACKAGES.join(' ')} failed (see above)`);
}

if (process.argv.includes('--torch')) {
  aptInstall();
  const python = found();
  if (!python) fail(`installed ${PACKAGES.join(', ')}, but no \`import torch\` in ${candidates.join(', ')}`);
  console.log(`PyTorch row: torch imports in ${python}; npm run bench runs it (engines torch, torch-2t)`);
} else {
  const python = found();
  console.log(python
    ? `PyTorch row: torch imports in ${python}; npm run bench runs it`
    : 'PyTorch row: skipped (no PyTorch); `npm run bench:setup -- --torch` installs Debian\'s python3-torch with OpenBLAS');
}
