// A rendered WGSL kernel as the source of a `WgslOverride` (runtime/gpujs-wgsl.ts): the function
// expression that emitGpuJsModule's `wgsl` hook puts in a module's `wgslKernels` table. It makes
// each pass's pipeline once per device (cached on the device by shader source), a parameter and
// a scratch buffer once per batch size, and encodes the passes into one submission.
import type { Kernel } from '../../lower/kernel.ts';
import { intLiteral } from '../literal.ts';
import { stringLiteral } from '../names.ts';
import { renderWgslKernel, type Binding, type Count, type WgslKernel, type WgslOptions } from './kernel.ts';

// GPUBufferUsage's values, fixed by the WebGPU spec (the global exists only where WebGPU does).
const UNIFORM_COPY_DST = 0x0040 | 0x0008;
const STORAGE = 0x0080;

const count = (c: Count, batch: string) => `Math.ceil(${intLiteral(c.extent.factor)}${c.extent.batch ? ` * ${batch}` : ''} / ${intLiteral(c.per)}) * ${intLiteral(c.times)}`;

function resource(b: Binding): string {
  switch (b.kind) {
    case 'params':
      return 'state.params';
    case 'out':
      return 'output';
    case 'scratch':
      return 'state.scratch';
    case 'input':
      return `inputs[${intLiteral(b.slot)}]`;
    default:
      return b satisfies never;
  }
}

/** The override's source for a rendered kernel. */
export function overrideSource(w: WgslKernel): string {
  const scratch = w.scratch ? `${intLiteral(w.scratch.splits * w.scratch.elements.factor)}${w.scratch.elements.batch ? ' * batch' : ''}` : '0';
  const passes = w.passes.map((p, i) => [
    `    {`,
    `      const pipeline = cache.get(SOURCES[${intLiteral(i)}]) ?? device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: SOURCES[${intLiteral(i)}] }), entryPoint: 'main' } });`,
    `      cache.set(SOURCES[${intLiteral(i)}], pipeline);`,
    `      const entries = [${p.bindings.map((b) => `{ binding: ${intLiteral(b.binding)}, resource: { buffer: ${resource(b)} } }`).join(', ')}];`,
    `      const pass = encoder.beginComputePass();`,
    `      pass.setPipeline(pipeline);`,
    `      pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));`,
    `      pass.dispatchWorkgroups(${p.dispatch.map((c) => count(c, 'batch')).join(', ')});`,
    `      pass.end();`,
    `    }`,
  ]);
  return [
    `(device, batch, inputs, output) => {`,
    `  // ${w.how}`,
    `  const SOURCES = [${w.passes.map((p) => stringLiteral(p.source)).join(', ')}];`,
    `  const cache = (device.kilnWgslCache ??= new Map());`,
    `  const key = SOURCES[0] + '|' + batch;`,
    `  let state = cache.get(key);`,
    `  if (!state) {`,
    `    const params = device.createBuffer({ size: 16, usage: ${intLiteral(UNIFORM_COPY_DST)} });`,
    `    device.queue.writeBuffer(params, 0, new Int32Array([batch, 0, 0, 0]));`,
    `    const elements = ${scratch};`,
    `    state = { params, scratch: elements > 0 ? device.createBuffer({ size: elements * 4, usage: ${intLiteral(STORAGE)} }) : null };`,
    `    cache.set(key, state);`,
    `  }`,
    `  const encoder = device.createCommandEncoder();`,
    ...passes.flat().map((l) => `  ${l.slice(2)}`),
    `  device.queue.submit([encoder.finish()]);`,
    `}`,
  ].join('\n');
}

/** A kernel's override source: one shader, or one per kind of adapter (runtime `byAdapter`). */
export type WgslSources = string | { readonly software: string; readonly hardware: string };

/**
 * The `wgsl` hook of emitGpuJsModule: an override's source for each kernel the renderer takes.
 * Unless `options.workgroupTiles` fixes the shader, both: registers only for CPU adapters
 * (SwiftShader, where this project's tests run), workgroup tiles for GPUs.
 */
export function wgslOverrideSource(options: WgslOptions = {}): (k: Kernel) => WgslSources | undefined {
  return (k) => {
    const render = (o: WgslOptions) => {
      const w = renderWgslKernel(k, o);
      return w && overrideSource(w);
    };
    if (options.workgroupTiles !== undefined) return render(options);
    const software = render({ ...options, workgroupTiles: false });
    const hardware = render({ ...options, workgroupTiles: true });
    return software && hardware ? { software, hardware } : undefined;
  };
}
