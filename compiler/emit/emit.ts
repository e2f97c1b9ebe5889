// The emitter of each backend, by name: compileModel picks one here.
import { KilnError } from '../../src/ir/errors.ts';
import type { Program } from '../lower/plan.ts';
import type { Backend, EmitOptions, EmittedModule } from './common.ts';
import { wgslOverrideSource } from '../codegen/wgsl/override.ts';
import { emitGpuJsModule } from './gpujs/module.ts';
import { emitJsModule } from './js/module.ts';

/** A backend's emitter: a planned program (and options) in, the module's TypeScript and JavaScript out. */
export type Emitter = (p: Program, o: EmitOptions) => EmittedModule;

/** Every backend's emitter (a new backend without one fails to typecheck here). */
// GPU.js modules carry Kiln's WGSL for their contraction kernels; it runs on WebGPU only.
export const EMITTERS: { readonly [B in Backend]: Emitter } = { js: emitJsModule, gpujs: (p, o) => emitGpuJsModule(p, o, wgslOverrideSource()) };

/** The emitter of `backend`; a name from outside the type checker (a JavaScript caller) that names none is an error. */
export function emitterFor(backend: Backend = 'js'): Emitter {
  if (!Object.hasOwn(EMITTERS, backend)) throw new KilnError(`unknown backend '${String(backend)}' (available: ${Object.keys(EMITTERS).join(', ')})`);
  return EMITTERS[backend];
}

export type { Backend, EmitOptions, EmittedModule, TrainingEmit } from './common.ts';

