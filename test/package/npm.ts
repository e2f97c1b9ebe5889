// Running npm, npx and node for the packing test: child processes with a clean environment, the
// registry check that decides whether the test can run, and the size of an installed tree.
import { spawn } from 'node:child_process';
import { readdirSync, lstatSync } from 'node:fs';
import path from 'node:path';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command line and its output, for an assertion's message. */
  transcript: string;
}

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/**
 * The environment for a child: `npm test` exports npm_config_* and npm_package_* variables that
 * would make an install in another folder act on this repository's settings, so none pass on.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, NO_COLOR: '1', NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false' };
}

/** Runs `command args` in `cwd`; resolves (never rejects) with its exit code and output, killed after `seconds`. */
export function run(command: string, args: readonly string[], cwd: string, seconds = 120): Promise<Ran> {
  const line = `$ (cd ${cwd} && ${command} ${args.join(' ')})`;
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), shell: process.platform === 'win32' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), seconds * 1000);
    const done = (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, transcript: `${line}\nexit ${code}\n${stdout}${stderr}` });
    };
    child.on('error', (e) => {
      stderr += String(e);
      done(null);
    });
    child.on('close', done);
  });
}

export const npm = (args: readonly string[], cwd: string, seconds?: number) => run(NPM, args, cwd, seconds);
export const npx = (args: readonly string[], cwd: string, seconds?: number) => run(NPX, args, cwd, seconds);
export const node = (args: readonly string[], cwd: string, seconds?: number) => run(process.execPath, args, cwd, seconds);

/** Why the registry cannot be used (the test is skipped with this reason), or undefined when it answers. */
export async function registryProblem(cwd: string): Promise<string | undefined> {
  const ping = await npm(['ping', '--fetch-timeout=10000', '--fetch-retries=0'], cwd, 30);
  if (ping.code === 0) return undefined;
  // npm's own reason ("FetchError: request to … failed, reason: …"), not its closing "see the log" line.
  const lines = ping.stderr.split('\n').map((l) => l.replace(/^npm error /, '').trim());
  const reason = lines.find((l) => /Error:|reason:/.test(l)) ?? lines.find((l) => /^code /.test(l)) ?? `exit ${ping.code}`;
  return `the npm registry is unreachable (npm ping: ${reason.slice(0, 200)})`;
}

/** Bytes of the files under `dir` (their lengths; symlinks not followed) and how many packages its node_modules folders hold. */
export function treeSize(dir: string): { bytes: number; packages: number } {
  let bytes = 0;
  let packages = 0;
  const stack = [dir];
  for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
    const name = path.basename(d);
    const holdsPackages = name === 'node_modules' || (name.startsWith('@') && path.basename(path.dirname(d)) === 'node_modules');
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        stack.push(full);
        if (holdsPackages && !entry.name.startsWith('@') && !entry.name.startsWith('.')) packages++;
      } else if (entry.isFile()) {
        bytes += lstatSync(full).size;
      }
    }
  }
  return { bytes, packages };
}
