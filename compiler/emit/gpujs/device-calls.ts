// How the GPU.js backend runs a planned program: kernel builds, and the statements that upload
// inputs, call each kernel on device tensors and release every result after its last reader.
import type { Node } from '../../../src/ir/node.ts';
import { BATCH, isBatched, sampleSize } from '../../../src/ir/shape.ts';
import { helpersUsed, renderGpuJsKernel } from '../../codegen/gpujs-kernel.ts';
import { baseOf, type Program } from '../../lower/plan.ts';

/** How the statements of one program name the device tensors they read. */
export interface DeviceRefs {
  /** Kernel names get this prefix (`k`, `tk`, `ek`); results are `${prefix}${index}` too, upper-cased. */
  readonly prefix: string;
  input(index: number): string;
  param(n: Node): string;
}

export interface DeviceCalls {
  /** Uploads, kernel calls and releases, in order; what `keep` names stays alive. */
  readonly lines: string[];
  /** The device tensor holding node `n`'s value. */
  ref(n: Node): string;
}

/**
 * The statements that run program `p` on the device. Each kernel result is released right after
 * its last reader, except the values in `keep` (outputs to read back, new weights to keep).
 */
export function deviceCalls(p: Program, refs: DeviceRefs, keep: readonly Node[]): DeviceCalls {
  const result = (i: number) => `${refs.prefix.toUpperCase()}${i}`;
  const producer = new Map(p.kernels.map((k, i) => [k.writes, i]));
  const ref = (n: Node): string => {
    const s = p.storageOf(n);
    if (s.kind === 'input') return refs.input(s.index);
    if (s.kind === 'param') return refs.param(p.params[s.index]);
    if (s.kind === 'const') return `C${refs.prefix}[${s.index}]`;
    return result(producer.get(baseOf(n))!);
  };
  const kept = new Set(keep.map(baseOf));
  const lastUse = new Map<Node, number>();
  p.kernels.forEach((k, i) => k.reads.forEach((r) => lastUse.set(baseOf(r), i)));
  const lines: string[] = [];
  p.kernels.forEach((k, i) => {
    lines.push(`const ${result(i)} = ${refs.prefix}${i}(batch${k.reads.map((r) => `, ${ref(r)}`).join('')});`);
    const done = [...new Set(k.reads.map(baseOf))].filter((r) => lastUse.get(r) === i && producer.has(r) && !kept.has(r));
    if (done.length) lines.push(done.map((r) => `device.release(${ref(r)});`).join(' '));
  });
  // Results nobody reads (a training graph's unused outputs) are released at once.
  p.kernels.forEach((k, i) => {
    if (!lastUse.has(k.writes) && !kept.has(k.writes)) lines.push(`device.release(${result(i)});`);
  });
  return { lines, ref };
}

/**
 * `lines` for the asynchronous entry points: each kernel call awaited through its `async` form
 * (WebGPU resolves a call once its work is queued, so this costs no round trip to the GPU).
 */
export function asyncLines(lines: readonly string[]): string[] {
  return lines.map((l) => l.replace(/^const (\w+) = (\w+)\(batch/, 'const $1 = await $2.async(batch'));
}

/** Releases of the kernel results among `nodes` (outputs already read back), once each. */
export function releaseResults(calls: DeviceCalls, p: Program, nodes: readonly Node[]): string[] {
  return [...new Set(nodes.map(baseOf))].filter((n) => p.storageOf(n).kind === 'buffer').map((n) => `device.release(${calls.ref(n)});`);
}

/**
 * `const k0 = device.kernel('k0', k0Source, [...helpers], perSample, batched, wgslKernels.k0);` for
 * each kernel: on WebGPU an entry of the module's `wgslKernels` table runs instead of the source.
 */
export function kernelBuilds(p: Program, prefix: string): string[] {
  return p.kernels.map((k, i) => {
    const helpers = helpersUsed(renderGpuJsKernel(k)).map((h) => `helpers.${h}`);
    return `const ${prefix}${i} = device.kernel('${k.name}', ${k.name}Source, [${helpers.join(', ')}], ${sampleSize(k.shape)}, ${isBatched(k.shape)}, ${WGSL_TABLE}['${k.name}']);`;
  });
}

/** The emitted table of hand-written WGSL kernels by kernel name (empty unless a WGSL renderer fills it). */
export const WGSL_TABLE = 'wgslKernels';

/** The length of node `n`'s value in one call, as source text (`* batch` when it is batched). */
export const perCall = (n: Node) => `${sampleSize(n.type.shape)}${n.type.shape[0] === BATCH ? ' * batch' : ''}`;
