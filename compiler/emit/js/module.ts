// The JavaScript backend's module: imports, descriptions, the kernels (JavaScript loops and their
// WebAssembly SIMD versions), createModel, createTrainer and the table workers look kernels up in;
// with a trainer, also the inference-only module beside it (predict's entry: no training code).
import { renderJsKernel } from '../../codegen/js-kernel.ts';
import type { Program } from '../../lower/plan.ts';
import { moduleDeclarations } from '../declarations.ts';
import { addDescriptions, closeModule, kernelPlaceholder, openModule, runtimeEntry, runtimeImport, type EmitOptions, type EmittedModule, type KernelBlocks } from '../common.ts';
import { addCreateModel } from './model.ts';
import { addKernelTables, type KernelGroup } from './pool.ts';
import { addSimdTable, addWorkerKernels, modelSimdVersions, simdVersions } from './simd-table.ts';
import { addTrainer } from './trainer.ts';
import { addProfileTable, loopTimeNames } from './profile.ts';
import { MODEL_TYPES, MODEL_VALUES, NODE_TYPES, TRAINER_TYPES, TRAINER_VALUES, type ModelValue, type RuntimeType } from '../runtime-names.ts';

/**
 * The module's TypeScript source, formatted, and its JavaScript (types stripped). With a trainer
 * and `o.inferenceModule`, `inference` is the module the same compile emits without one: an
 * application that only predicts imports it and never parses, or decodes the WebAssembly of, the
 * training step. (Asked for, not always made: it adds about a tenth to a compile with training.)
 */
export function emitJsModule(p: Program, o: EmitOptions): EmittedModule {
  const module = emitModule(p, o);
  return o.training && o.inferenceModule ? { ...module, inference: emitModule(p, { ...o, training: undefined, inferenceModule: undefined }) } : module;
}

/** One module: the model's entry points, and the trainer's when `o.training` is given. */
function emitModule(p: Program, o: EmitOptions): EmittedModule {
  const f = openModule(p, o, 'js');
  const runtime = runtimeImport(o);
  // Without a trainer the module calls only the runtime's inference entry (kiln/runtime/inference:
  // about half of kiln/runtime to parse, bench/startup.md). A --runtime-import specifier is kept
  // whole: it names one file.
  const from = !o.training && runtime === 'kiln/runtime' ? runtimeEntry(runtime, 'inference') : runtime;
  const groups: KernelGroup[] = [{ name: 'model', kernels: p.kernels }, ...(o.training ? [{ name: 'trainer' as const, kernels: [...o.training.program.kernels, ...o.training.evalProgram.kernels] }] : [])];
  const runtimeNames = MODEL_VALUES;
  const trainingNames = o.training ? TRAINER_VALUES : [];
  // The types an application sees re-exported (below); TrainerCore and TrainerInfo are the module's own business.
  const trainingTypes: RuntimeType[] = o.training ? ['Dataset', 'FitOptions', 'EpochLog', 'Evaluation', 'Trainer'] : [];
  f.addImportDeclaration({ moduleSpecifier: from, namedImports: [...runtimeNames, ...trainingNames] });
  f.addImportDeclaration({ moduleSpecifier: from, isTypeOnly: true, namedImports: [...MODEL_TYPES, ...(o.training ? TRAINER_TYPES : [])] });
  f.addImportDeclaration({ moduleSpecifier: runtimeEntry(runtime, 'node'), isTypeOnly: true, namedImports: NODE_TYPES });
  f.addExportDeclaration({ moduleSpecifier: from, isTypeOnly: true, namedExports: ['TensorInfo', 'ParameterInfo', 'WeightsSource', ...trainingTypes] });
  addDescriptions(f, p, o);
  // The kernels go in at the end (closeModule): the transpiler sees a placeholder for each list.
  const blocks: KernelBlocks = { texts: [] };
  // (A model without kernels, an identity, gets no placeholder: the module reads as before.)
  f.addStatements(['// Kernels: one per fused group, in execution order.', ...(p.kernels.length ? [kernelPlaceholder(blocks, p.kernels.map(renderJsKernel))] : [])]);
  if (o.training) {
    const trainKernels = [...o.training.program.kernels, ...o.training.evalProgram.kernels].map(renderJsKernel);
    f.addStatements(['// Training-step kernels: forward, loss, gradients and optimizer update.', ...(trainKernels.length ? [kernelPlaceholder(blocks, trainKernels)] : [])]);
  }
  // The model opens the SIMD memory when either entry point has SIMD kernels: a trainer's run there too.
  // The model's products over a parameter read a copy of it packed once per weight set (createModel makes it).
  const model = modelSimdVersions(p.kernels);
  // A trainer's steps take batches: its products have no single-row part.
  const versions = groups.map((g) => (g.name === 'model' ? model.versions : simdVersions(g.kernels, false)));
  const anySimd = versions.some((v) => v.length > 0);
  const simdNames = groups.map((g, i) => addSimdTable(f, g.name, versions[i], g.name === 'model' && anySimd));
  const trainerSimd = (simdNames[1]?.size ?? 0) > 0;
  if (anySimd) addWorkerKernels(f, groups.filter((g, i) => g.name === 'model' || simdNames[i].size > 0).map((g) => g.name));
  addCreateModel(f, p, o, anySimd, model.prepacks);
  if (o.training) addTrainer(f, o.training, trainerSimd, o.profile);
  // Loops are timed as wholes too (their copies); names per program, as program-parts.ts times them.
  const programs = [p, ...(o.training ? [o.training.program, o.training.evalProgram] : [])];
  if (o.profile) addProfileTable(f, groups.flatMap((g) => g.kernels), programs.flatMap((q) => [...loopTimeNames(q).values()]));
  addKernelTables(f, groups, new Set(simdNames.flatMap((s) => [...s])));
  // Import the helpers only when some code calls them (left out of the text closeModule writes).
  const body = f.getFullText() + blocks.texts.join('\n');
  const helpers: readonly ModelValue[] = ['feed', 'checkIndices', 'erf', 'hashUniform', 'fromBase64', 'openSimd', 'workerSimd', 'perSampleModel'];
  const unused = helpers.filter((helper) => !body.includes(`${helper}(`));
  return { ...closeModule(f, blocks, new Set([...unused, ...(anySimd ? [] : ['SimdKernels'])])), dts: moduleDeclarations(f) };
}
