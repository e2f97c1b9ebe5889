// `npm run conformance -- <dir> [--backend js|gpujs] [--gpu webasm|cpu] [--only name,name] [--out build/conformance]`:
// runs every ONNX test case under <dir>, one line per case, then a summary line.
// Exit status: 0 when no case failed (unsupported cases do not fail the run), 1 otherwise, 2 on bad usage.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { formatResult, formatSummary, runConformance, BACKENDS, type Backend } from './run.ts';

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run conformance -- <dir> [--backend ${BACKENDS.join('|')}] [--gpu webasm|cpu] [--only case,case] [--out dir]\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  let dir: string | undefined;
  let backend: Backend = 'js';
  let only: string[] | undefined;
  let outDir: string | undefined;
  let gpu: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--backend') {
      const b = value();
      if (!(BACKENDS as readonly string[]).includes(b)) usage(`unknown backend '${b}'`);
      backend = b as Backend;
    } else if (a === '--gpu') gpu = value();
    else if (a === '--only') only = value().split(',').filter(Boolean);
    else if (a === '--out') outDir = path.resolve(value());
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (dir === undefined) dir = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!dir) usage('missing <dir>');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) usage(`no such directory: ${dir}`);
  const results = await runConformance(dir, { backend, gpu, only, outDir, onResult: (r) => console.log(formatResult(r)) });
  console.log(formatSummary(results));
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
