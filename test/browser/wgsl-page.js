// The page side of test/browser/wgsl.test.ts: runs rendered WGSL kernels (compiler/codegen/wgsl)
// on the page's WebGPU device and sends their outputs back, base64 float32. Plain JavaScript so
// the test serves it as it is, with nothing bundled.
'use strict';

const fromBase64 = (s) => {
  const bytes = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
};

const toBase64 = (f32) => {
  const bytes = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
};

let devicePromise;
function device() {
  devicePromise ??= (async () => {
    if (!navigator.gpu) throw new Error('no navigator.gpu');
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter');
    return { adapter, device: await adapter.requestDevice() };
  })();
  return devicePromise;
}

/** The adapter's description, or why there is none. */
globalThis.wgslAdapter = async () => {
  try {
    const { adapter } = await device();
    const info = adapter.info ?? {};
    return { ok: true, vendor: info.vendor ?? '', architecture: info.architecture ?? '' };
  } catch (e) {
    return { ok: false, reason: String(e && e.message ? e.message : e) };
  }
};

const storage = (dev, bytes, usage) => dev.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage });

/** mulberry32, as test/browser/wgsl-kernels.ts's `random`: the page makes the same inputs from the seed, so none cross the wire. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pipelines by shader source: a kernel at another batch size (or the same shader in another test) is not compiled again. */
const pipelines = new Map();
async function pipelineFor(dev, source, errors) {
  let p = pipelines.get(source);
  if (!p) {
    const module = dev.createShaderModule({ code: source });
    const info = await module.getCompilationInfo();
    for (const m of info.messages) if (m.type === 'error') errors.push(`${m.lineNum}:${m.linePos} ${m.message}`);
    p = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    pipelines.set(source, p);
  }
  return p;
}

/**
 * Runs one kernel rendered several ways on the same inputs: `job` = { seed, inputLengths,
 * usedSlots, variants: [{ passes: [{ source, dispatch: [x, y, z], bindings }], scratchElements }],
 * outElements, batch, at }. The inputs are `random(seed)`'s values in [-1, 1), slot after slot, as
 * inputsFor makes them; each goes up once. Returns each variant's { out, errors }: the output (at
 * the flat positions `at`, or all of it when `at` is null) as base64 float32.
 */
globalThis.wgslRun = async (job) => {
  const { device: dev } = await device();
  const S = GPUBufferUsage;
  const r = random(job.seed);
  const inputs = job.inputLengths.map((n, slot) => {
    const data = Float32Array.from({ length: n }, () => r() * 2 - 1);
    if (!job.usedSlots.includes(slot)) return null;
    const buf = storage(dev, data.byteLength, S.STORAGE | S.COPY_DST);
    dev.queue.writeBuffer(buf, 0, data);
    return buf;
  });
  const params = dev.createBuffer({ size: 16, usage: S.UNIFORM | S.COPY_DST });
  dev.queue.writeBuffer(params, 0, new Int32Array([job.batch, 0, 0, 0]));
  const results = [];
  for (const v of job.variants) {
    const errors = [];
    dev.pushErrorScope('validation');
    const out = storage(dev, job.outElements * 4, S.STORAGE | S.COPY_SRC);
    const scratch = storage(dev, v.scratchElements * 4, S.STORAGE);
    const enc = dev.createCommandEncoder();
    for (const p of v.passes) {
      const pipeline = await pipelineFor(dev, p.source, errors);
      const entries = p.bindings.map((b) => ({
        binding: b.binding,
        resource: { buffer: b.kind === 'params' ? params : b.kind === 'out' ? out : b.kind === 'scratch' ? scratch : inputs[b.slot] },
      }));
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
      pass.dispatchWorkgroups(p.dispatch[0], p.dispatch[1], p.dispatch[2]);
      pass.end();
    }
    const read = dev.createBuffer({ size: out.size, usage: S.MAP_READ | S.COPY_DST });
    enc.copyBufferToBuffer(out, 0, read, 0, out.size);
    dev.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(read.getMappedRange().slice(0, job.outElements * 4));
    read.unmap();
    const scope = await dev.popErrorScope();
    if (scope) errors.push(scope.message);
    for (const b of [out, scratch, read]) b.destroy();
    results.push({ out: toBase64(job.at ? Float32Array.from(job.at, (i) => all[i]) : all), errors });
  }
  for (const b of [params, ...inputs]) b?.destroy();
  return results;
};

/** An override table from override sources (compiler/codegen/wgsl/override.ts: function expressions). */
const overridesFrom = (sources) => Object.fromEntries(Object.entries(sources).map(([name, src]) => [name, new Function(`return ${src}`)()]));

/**
 * An emitted GPU.js module (globalThis.kilnModels[name]) on WebGPU with its own kernels, then with
 * each table of `variants` (kernel name → override source) through the WGSL seam: every variant's predictions, and the mean time of
 * `repeat` predictAsync calls of each after a warm-up (interleaved, so a busy machine slows all alike).
 */
globalThis.wgslCompare = async (name, weightsB64, xB64, batch, variants, repeat) => {
  const mod = globalThis.kilnModels[name];
  const weights = Uint8Array.from(atob(weightsB64), (c) => c.charCodeAt(0));
  const x = fromBase64(xB64);
  const models = [mod.createModel(weights, { mode: 'webgpu', wgsl: false }), ...variants.map((descs) => mod.createModel(weights, { mode: 'webgpu', wgsl: overridesFrom(descs) }))];
  const backends = [];
  const outs = [];
  for (const m of models) {
    backends.push(await m.ready());
    outs.push(toBase64(await m.predictAsync(x, batch)));
  }
  const ms = models.map(() => 0);
  for (let r = 0; r < repeat; r++) {
    for (const [i, m] of models.entries()) {
      const t0 = performance.now();
      await m.predictAsync(x, batch);
      ms[i] += (performance.now() - t0) / repeat;
    }
  }
  for (const m of models) m.destroy();
  return { backends, outs, ms };
};
