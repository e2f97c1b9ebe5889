// `npm run conformance -- <dir> [--backend js|gpujs] [--gpu webasm|cpu] [--only name,name] [--out dir] [--json]`:
// the same as `kiln conformance` (cli/conformance/command.ts), kept as a script for the checkout.
// Exit status: 0 when no case failed (unsupported cases do not fail the run), 1 otherwise, 2 on bad usage.
import { main } from '../main.ts';

process.exitCode = await main(['conformance', ...process.argv.slice(2)]);
