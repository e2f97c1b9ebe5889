// The manifest every emitted module exports: what it is (model, graph hash, compiler, backend),
// its inputs and outputs, and each kernel with the layers it came from, so tools (`kiln inspect`
// on a module, profilers, error reports) map a kernel back to the model without its source file.
import type { ModuleText } from './writer.ts';
import type { Node } from '../../src/ir/node.ts';
import { COMPILER_VERSION } from '../../src/version.ts';
import { internal } from '../../src/ir/errors.ts';
import { identifier, intLiteral } from '../codegen/literal.ts';
import { stringLiteral } from '../codegen/names.ts';
import { describeOps, type Kernel } from '../lower/kernel.ts';
import type { Program } from '../lower/plan.ts';
import type { Backend, EmitOptions } from './common.ts';
import { addKernelFailure, addNamedKernel, MODEL_KERNELS, TRAINER_KERNELS } from './kernel-failure.ts';

/** The manifest's format tag and version: bumped on any change a reader must know about. */
export const MANIFEST_FORMAT = 'kiln.manifest';
export const MANIFEST_VERSION = 1;

export interface ManifestTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly (number | 'N')[];
}

export interface ManifestKernel {
  readonly name: string;
  /** What it computes, e.g. `matmul → add → relu`. */
  readonly ops: string;
  readonly layers: readonly string[];
}

/** The value of an emitted module's `manifest` export. */
export interface ModuleManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: typeof MANIFEST_VERSION;
  readonly model: string;
  readonly graphHash: string;
  readonly compilerVersion: string;
  readonly backend: Backend;
  readonly inputs: readonly ManifestTensor[];
  readonly outputs: readonly ManifestTensor[];
  readonly kernels: readonly ManifestKernel[];
  /** With a trainer: the training step's kernels (forward, loss, gradients, update; then evaluation's). */
  readonly trainerKernels?: readonly ManifestKernel[];
  /** GPU.js modules: the kernels (model's and trainer's) that run Kiln's own WGSL on WebGPU; every other kernel is GPU.js. */
  readonly wgslKernels?: readonly string[];
}

// `axis`: a per-sample graph's batch axis for this tensor (Graph.batchAxes): 'N' there, as the user feeds it.
const tensor = (n: Node, name: string, axis: number | null = null): ManifestTensor => ({ name, dtype: n.type.dtype, shape: n.type.shape.map((d, i) => (i === axis ? 'N' : d)) });
const kernel = (k: Kernel): ManifestKernel => ({ name: k.name, ops: describeOps(k), layers: [...k.layers] });

/** The manifest of a program emitted for `backend` (pure: tests compare it with the module's export). */
export function moduleManifest(p: Program, o: EmitOptions, backend: Backend, wgslKernels?: readonly string[]): ModuleManifest {
  const g = p.graph;
  const t = o.training;
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    model: g.name,
    graphHash: o.graphHash,
    compilerVersion: COMPILER_VERSION,
    backend,
    inputs: g.inputs.map((n, i) => tensor(n, String(n.attrs.name), g.batchAxes?.inputs[i])),
    outputs: g.outputs.map((out, k) => tensor(out.node, out.name, g.batchAxes?.outputs[k])),
    kernels: p.kernels.map(kernel),
    ...(t ? { trainerKernels: [...t.program.kernels, ...t.evalProgram.kernels].map(kernel) } : {}),
    ...(wgslKernels ? { wgslKernels: [...wgslKernels] } : {}),
  };
}

/** The TypeScript of the manifest's type, declared in the module so its `.d.mts` carries it. */
const MANIFEST_TYPE = `{
  readonly format: 'kiln.manifest';
  readonly version: 1;
  readonly model: string;
  readonly graphHash: string;
  readonly compilerVersion: string;
  readonly backend: 'js' | 'gpujs';
  readonly inputs: readonly { readonly name: string; readonly dtype: string; readonly shape: readonly (number | 'N')[]; }[];
  readonly outputs: readonly { readonly name: string; readonly dtype: string; readonly shape: readonly (number | 'N')[]; }[];
  readonly kernels: readonly { readonly name: string; readonly ops: string; readonly layers: readonly string[]; }[];
  readonly trainerKernels?: readonly { readonly name: string; readonly ops: string; readonly layers: readonly string[]; }[];
  readonly wgslKernels?: readonly string[];
}`;

/**
 * A manifest value as source: strings through names.ts's stringLiteral, numbers (dimensions)
 * through literal.ts, keys are the manifest's own fixed field names; nothing else is allowed.
 */
function valueSource(v: unknown): string {
  if (typeof v === 'string') return stringLiteral(v);
  if (typeof v === 'number') return intLiteral(v);
  if (Array.isArray(v)) return `[${v.map(valueSource).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${identifier(k)}: ${valueSource(x)}`).join(', ')} }`;
  return internal(`a ${typeof v} reached the manifest`);
}

/** Adds the `ModuleManifest` type and `export const manifest` to an emitted module. */
export function addManifest(f: ModuleText, p: Program, o: EmitOptions, backend: Backend, wgslKernels?: readonly string[]): void {
  f.addTypeAlias({ name: 'ModuleManifest', isExported: true, type: MANIFEST_TYPE, docs: ["The shape of `manifest`."] });
  f.addVariableStatement({
    isExported: true,
    docs: ['What this module is: model, graph hash, compiler, inputs, outputs, and each kernel with the layers it came from.'],
    declarations: [{ name: 'manifest', type: 'ModuleManifest', initializer: valueSource(moduleManifest(p, o, backend, wgslKernels)) }],
  });
  // A kernel's run-time error names it and its layers from the manifest (kernel-failure.ts).
  if (!p.kernels.length && !o.training) return;
  const m = moduleManifest(p, o, backend);
  const info = (list: readonly ManifestKernel[], name: string) =>
    f.addVariableStatement({ declarations: [{ name, initializer: valueSource(list.map((k) => ({ name: k.name, layers: k.layers }))) }] });
  if (m.kernels.length) info(m.kernels, MODEL_KERNELS);
  if (m.trainerKernels) info(m.trainerKernels, TRAINER_KERNELS);
  addKernelFailure(f);
  if (backend === 'gpujs') addNamedKernel(f);
}
