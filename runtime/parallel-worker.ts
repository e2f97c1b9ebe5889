// The worker side of `ThreadPool` (parallel.ts), as the source of an `eval` worker: it waits for a
// job in shared memory, runs the requested range of a kernel from a module it imported itself,
// and reports back. It is kept as text, not a function, so that no transpiler (tsc, esbuild, a
// test runner) can rewrite it with helpers that would not exist in the worker; control slots
// are as parallel.ts lays them out.
export const WORKER_SOURCE = `
'use strict';
const threads = require('node:worker_threads');
const { control, commands, replies } = threads.workerData;
const [STATE, MODULE, KERNEL, BATCH, LO, HI, ARGC, ARGS, STARTED] = [0, 1, 2, 3, 4, 5, 6, 7, 63];
const TYPES = { Float32Array, Float64Array, Int32Array };
const SPIN = 20000;
const arrays = new Map();
const modules = new Map();
const memories = new Map();
const loaded = new Map();
const importModule = new Function('url', 'return import(url)');

// Every command sent since the last job: shared arrays, and modules to import.
function drain() {
  for (let m = threads.receiveMessageOnPort(commands); m; m = threads.receiveMessageOnPort(commands)) {
    const c = m.message;
    if (c.kind === 'array') arrays.set(c.id, new TYPES[c.type](c.buffer, c.offset, c.length));
    else if (c.kind === 'memory') memories.set(c.id, c.memory);
    else {
      // A module bound with a SIMD memory: its own WebAssembly instance over that same memory.
      const memory = c.memory === undefined ? undefined : memories.get(c.memory);
      modules.set(c.id, importModule(c.url).then((mod) => {
        const table = memory ? mod.workerKernels(memory) : mod.kernels;
        return c.names.map((n) => table[n]);
      }));
    }
  }
}

async function job() {
  drain();
  const id = control[MODULE];
  let kernels = loaded.get(id);
  if (!kernels) {
    kernels = await modules.get(id);
    loaded.set(id, kernels);
  }
  const args = Array.from({ length: control[ARGC] }, (_, i) => arrays.get(control[ARGS + i]));
  kernels[control[KERNEL]](control[BATCH], ...args, control[LO], control[HI]);
}

async function serve() {
  Atomics.store(control, STARTED, 1);
  Atomics.notify(control, STARTED);
  for (;;) {
    // Kernels come in bursts (one model call): spin briefly before sleeping, as a wake-up from
    // Atomics.wait costs tens of microseconds.
    for (let spin = 0; spin < SPIN && Atomics.load(control, STATE) !== 1; spin++);
    for (let s = Atomics.load(control, STATE); s !== 1; s = Atomics.load(control, STATE)) Atomics.wait(control, STATE, s);
    try {
      await job();
      Atomics.store(control, STATE, 2);
    } catch (e) {
      replies.postMessage({ error: e instanceof Error ? e.message : String(e) });
      Atomics.store(control, STATE, 3);
    }
    Atomics.notify(control, STATE);
  }
}
serve();
`;
