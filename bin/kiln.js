#!/usr/bin/env node
// Entry point of the `kiln` command: runs the compiled CLI (dist/cli) with plain Node. In a checkout
// whose sources changed since the last `npm run build` (or that has no build), runs the sources
// through tsx instead, so that `node bin/kiln.js …` always runs the code as it is now.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Newest modification time of the TypeScript sources under Kiln's own folders (a checkout only). */
function newestSource() {
  let newest = 0;
  for (const folder of ['src', 'compiler', 'cli', 'runtime']) {
    for (const entry of readdirSync(root + folder, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
    }
  }
  return newest;
}

/** True when this is a checkout (cli/main.ts is here) and dist/ is missing or older than a source. */
function runFromSource() {
  if (!existsSync(root + 'cli/main.ts')) return false;
  const built = root + 'dist/.tsbuildinfo';
  return !existsSync(root + 'dist/cli/main.js') || !existsSync(built) || statSync(built).mtimeMs < newestSource();
}

const fromSource = runFromSource();
if (fromSource) {
  // tsx is a devDependency: present in a checkout after `npm ci`.
  const { register } = await import('tsx/esm/api');
  register();
}
const entry = (name) => new URL(fromSource ? `../cli/${name}.ts` : `../dist/cli/${name}.js`, import.meta.url).href;
const { reportFailure } = await import(entry('errors'));
// An error after a command has returned (a server's, a stream's) is reported like any other:
// one line for a user's mistake, "internal error" and the stack for a bug.
process.on('uncaughtException', (e) => {
  process.exit(reportFailure(e, process.argv.includes('--verbose'), (t) => process.stderr.write(t)));
});
const { main } = await import(entry('main'));
process.exitCode = await main(process.argv.slice(2));
