// The worker side of `ThreadPool` (parallel.ts): waits for a job in shared memory, runs the
// requested range of a kernel from a module it imported itself, and reports back.
//
// `workerMain` runs as the source text of an `eval` worker, so it works the same from the
// runtime's TypeScript sources and from its build: it must not use anything from outside its
// own body (hence `require` for Node's modules).
declare const require: (id: string) => unknown;

export function workerMain(): void {
  type Array32 = Float32Array | Float64Array | Int32Array;
  type KernelFn = (batch: number, ...args: (Array32 | number)[]) => void;
  type Command =
    | { kind: 'module'; id: number; url: string; names: string[] }
    | { kind: 'array'; id: number; buffer: SharedArrayBuffer; offset: number; length: number; type: string };
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const { control, commands, replies } = threads.workerData as { control: Int32Array; commands: import('node:worker_threads').MessagePort; replies: import('node:worker_threads').MessagePort };
  const TYPES = { Float32Array, Float64Array, Int32Array } as Record<string, new (b: SharedArrayBuffer, o: number, n: number) => Array32>;
  const arrays = new Map<number, Array32>();
  const modules = new Map<number, Promise<KernelFn[]>>();
  const loaded = new Map<number, KernelFn[]>();
  // import() spelled so that no bundler or test transform rewrites it inside this eval'd source.
  const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<{ kernels: Record<string, KernelFn> }>;
  // Slots, as parallel.ts lays them out.
  const [STATE, MODULE, KERNEL, BATCH, LO, HI, ARGC, ARGS, STARTED] = [0, 1, 2, 3, 4, 5, 6, 7, 63];

  /** Takes every pending command (arrays and modules sent since the last job). */
  const drain = (): void => {
    for (let m = threads.receiveMessageOnPort(commands); m; m = threads.receiveMessageOnPort(commands)) {
      const c = m.message as Command;
      if (c.kind === 'array') arrays.set(c.id, new TYPES[c.type](c.buffer, c.offset, c.length));
      else modules.set(c.id, importModule(c.url).then((mod) => c.names.map((n) => mod.kernels[n])));
    }
  };

  const job = async (): Promise<void> => {
    drain();
    const id = control[MODULE];
    let kernels = loaded.get(id);
    if (!kernels) {
      kernels = await modules.get(id)!;
      loaded.set(id, kernels);
    }
    const args = Array.from({ length: control[ARGC] }, (_, i) => arrays.get(control[ARGS + i])!);
    kernels[control[KERNEL]](control[BATCH], ...args, control[LO], control[HI]);
  };

  const serve = async (): Promise<void> => {
    Atomics.store(control, STARTED, 1);
    Atomics.notify(control, STARTED);
    for (;;) {
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
  };
  void serve();
}
