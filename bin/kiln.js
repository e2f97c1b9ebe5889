#!/usr/bin/env node
// Entry point of the `kiln` command: registers tsx so model files run as the TypeScript they are.
import { register } from 'tsx/esm/api';

register();
const { reportFailure } = await import('../cli/errors.ts');
// An error after a command has returned (a server's, a stream's) is reported like any other:
// one line for a user's mistake, "internal error" and the stack for a bug.
process.on('uncaughtException', (e) => {
  process.exit(reportFailure(e, process.argv.includes('--verbose'), (t) => process.stderr.write(t)));
});
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
