#!/usr/bin/env node
// Entry point of the `kiln` command: registers tsx so model files run as the TypeScript they are.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
