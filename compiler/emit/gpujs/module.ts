// The GPU.js backend's module: the same API as the JavaScript backend (`createModel`,
// `createTrainer`), with every kernel a GPU.js kernel whose source is written here, at compile
// time. Weights, optimizer state and intermediate results live on the device between kernels;
// only inputs go up and only outputs, losses and metrics come back.
import type { ModuleText } from '../writer.ts';
import { describeGpuJsKernel, GPUJS_HELPERS, renderGpuJsKernel } from '../../codegen/gpujs-kernel.ts';
import type { Kernel } from '../../lower/kernel.ts';
import type { Program } from '../../lower/plan.ts';
import { moduleDeclarations } from '../declarations.ts';
import { addDescriptions, closeModule, openModule, runtimeEntry, runtimeImport, type EmitOptions, type EmittedModule } from '../common.ts';
import { indexInputs } from '../index-checks.ts';
import { addCreateModel } from './model.ts';
import { addCreateTrainer } from './trainer.ts';
import { WGSL_TABLE } from './device-calls.ts';
import { GPUJS_TYPES, TRAINER_VALUES, type GpuJsValue, type ModelValue, type RuntimeType, type TrainerValue } from '../runtime-names.ts';
import type { WgslSources } from '../../codegen/wgsl/override.ts';

/** `helpers` and each kernel's GPU.js source (`k0Source`, …), which createModel and createTrainer build. */
function addKernelSources(f: ModuleText, programs: readonly Program[]) {
  f.addVariableStatement({
    docs: ['Functions kernels call, spelled to stay defined in GLSL for every float32 argument.'],
    declarations: [{ name: 'helpers', initializer: `{\n${Object.entries(GPUJS_HELPERS).map(([n, s]) => `${n}: ${templateLiteral(s)}`).join(',\n')}\n}` }],
  });
  for (const k of programs.flatMap((p) => p.kernels)) {
    f.addVariableStatement({
      docs: [describeGpuJsKernel(k).join('\n')],
      declarations: [{ name: `${k.name}Source`, initializer: templateLiteral(renderGpuJsKernel(k)) }],
    });
  }
}

/** Each kernel `wgsl` takes over on WebGPU, with its override's source (kernel names are identifiers Kiln made). */
function wgslEntries(programs: readonly Program[], wgsl: WgslKernelSource | undefined): { name: string; sources: WgslSources }[] {
  return programs.flatMap((p) => p.kernels).flatMap((k) => {
    const sources = wgsl?.(k);
    return sources === undefined ? [] : [{ name: k.name, sources }];
  });
}

/** An entry's expression: its one override, or the runtime's choice between two by adapter. */
const overrideExpression = (s: WgslSources): string =>
  typeof s === 'string' ? s : `byAdapter(\n// On a CPU adapter (SwiftShader, llvmpipe): registers only.\n${s.software},\n// On a GPU: tiles staged in workgroup memory.\n${s.hardware},\n)`;

/** The table's doc comment: which kernels are Kiln's WGSL on WebGPU and which stay GPU.js (the manifest's `wgslKernels` says it too). */
function wgslDocs(programs: readonly Program[], taken: ReadonlySet<string>): string {
  const all = programs.flatMap((p) => p.kernels.map((k) => k.name));
  const list = (names: string[]) => (names.length ? names.join(', ') : 'none');
  return [
    'Kernels that run as WGSL on WebGPU instead of their GPU.js source, by kernel name (`{ wgsl }` in the options adds or replaces entries; `{ wgsl: false }` turns them off).',
    `On WebGPU, Kiln's own WGSL (compiler/codegen/wgsl, contraction kernels): ${list(all.filter((n) => taken.has(n)))}.`,
    `GPU.js (every backend): ${list(all.filter((n) => !taken.has(n)))}.`,
    'On webgl2, webgl, headlessgl, webasm and cpu every kernel is GPU.js and this table is ignored.',
  ].join('\n');
}

/** A template literal holding `source` verbatim (kernel sources contain no backticks or `${`, but escape anyway). */
const templateLiteral = (source: string) => '`' + source.replace(/[`\\]|\$\{/g, (m) => '\\' + m) + '`';

/**
 * Where a WGSL renderer plugs in: for a kernel it takes over on WebGPU, the source text of a
 * `WgslOverride` (a function expression; see docs/gpujs.md) to put in the module's `wgslKernels`
 * table, or two (`{ software, hardware }`) for the runtime's `byAdapter` to choose between;
 * undefined leaves the kernel to GPU.js. The text goes into the module verbatim, so it must
 * come from Kiln's own renderer, never from user input.
 */
export type WgslKernelSource = (k: Kernel) => WgslSources | undefined;

/** The module's TypeScript source, formatted, and its JavaScript (types stripped). `wgsl` fills its `wgslKernels` table. */
export function emitGpuJsModule(p: Program, o: EmitOptions, wgsl?: WgslKernelSource): EmittedModule {
  const f = openModule(p, o, 'gpujs');
  const runtime = runtimeImport(o);
  const gpuRuntime = runtimeEntry(runtime, 'gpujs');
  const runtimeNames: (ModelValue | TrainerValue)[] = ['checkRuntime', 'checkInput', 'feed', 'resolveWeights', ...(indexInputs(p.graph).size ? ['checkIndices' as const] : []), ...(o.inlineWeights ? ['fromBase64' as const] : []), ...(o.training ? TRAINER_VALUES : []), ...(p.graph.batchAxes ? ['perSampleModel' as const] : [])];
  f.addImportDeclaration({ moduleSpecifier: runtime, namedImports: runtimeNames });
  const types: RuntimeType[] = ['ParameterInfo', 'TensorInfo', 'WeightTensor', 'WeightsSource', ...(o.training ? (['Trainer', 'TrainerCore', 'TrainerInfo'] as const) : [])];
  f.addImportDeclaration({ moduleSpecifier: runtime, isTypeOnly: true, namedImports: types });
  const programs = [p, ...(o.training ? [o.training.program, o.training.evalProgram] : [])];
  const wgslKernels = wgslEntries(programs, wgsl);
  const choosesByAdapter = wgslKernels.some((e) => typeof e.sources !== 'string');
  const gpuNames: GpuJsValue[] = ['GpuDevice', 'asFloat32', ...(choosesByAdapter ? ['byAdapter' as const] : [])];
  f.addImportDeclaration({ moduleSpecifier: gpuRuntime, namedImports: gpuNames });
  f.addImportDeclaration({ moduleSpecifier: gpuRuntime, isTypeOnly: true, namedImports: GPUJS_TYPES });
  f.addExportDeclaration({ moduleSpecifier: runtime, isTypeOnly: true, namedExports: ['TensorInfo', 'ParameterInfo', 'WeightsSource', ...(o.training ? ['Trainer'] : [])] });
  addDescriptions(f, p, o, 'gpujs');
  f.addInterface({
    name: 'ModelOptions',
    isExported: true,
    extends: ['GpuOptions'],
    docs: ['Where the model runs: a device to share, or the GPU.js backend to demand (see GpuOptions).'],
    properties: [
      { name: 'seed', type: 'number', hasQuestionToken: true, docs: ['Initialiser seed when no weights are given.'] },
      { name: 'device', type: 'GpuDevice', hasQuestionToken: true, docs: ['A device to share with other models (one GPU context).'] },
      { name: 'allowForeignWeights', type: 'boolean', hasQuestionToken: true, docs: ["Accept a weight file written for another model (names and shapes must still match)."] },
    ],
  });
  f.addFunction({ name: 'sizeOf', parameters: [{ name: 'info', type: 'TensorInfo' }], returnType: 'number', statements: [`return info.shape.reduce<number>((n, d) => n * (d === 'N' ? 1 : d), 1);`] });
  const taken = new Set(wgslKernels.map((e) => e.name));
  f.addStatements([
    '// Kernel sources, one per fused group, with every shape a literal. GPU.js transpiles each to a',
    '// shader when createModel builds it; a thread computes one element of the flat output.',
  ]);
  addKernelSources(f, programs);
  f.addVariableStatement({
    isExported: true,
    docs: [wgslDocs(programs, taken)],
    declarations: [{ name: WGSL_TABLE, type: 'WgslOverrides', initializer: wgslKernels.length ? `{\n${wgslKernels.map((e) => `${e.name}: ${overrideExpression(e.sources)}`).join(',\n')}\n}` : '{}' }],
  });
  addCreateModel(f, p, o, [...taken]);
  if (o.training) addCreateTrainer(f, o.training, p.params, o.profile);
  return { ...closeModule(f), dts: moduleDeclarations(f) };
}
