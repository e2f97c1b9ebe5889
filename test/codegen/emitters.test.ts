// The emit layer's table of backends: each backend name picks its own emitter, and a name from an
// untyped caller that names none is a one-line KilnError rather than a silent JavaScript module.
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { EMITTERS, emitterFor } from '../../compiler/emit/emit.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { dense, input, model } from '../../src/index.ts';

function graph() {
  const x = input([3], { name: 'x' });
  return model({ name: 'tiny', inputs: x, outputs: dense(x, 2) }).graph;
}

describe('emitters by backend', () => {
  it('js and gpujs each emit a module whose header names that backend', () => {
    const g = graph();
    for (const backend of ['js', 'gpujs'] as const) {
      expect(Object.keys(EMITTERS)).toContain(backend);
      expect(compileModel(g, { backend }).ts).toContain(`(backend: ${backend})`);
    }
  });

  it('an unknown backend is a KilnError naming the ones there are', () => {
    expect(() => emitterFor('wasm' as never)).toThrow(KilnError);
    expect(() => compileModel(graph(), { backend: 'wasm' as never })).toThrow(/^unknown backend 'wasm' \(available: js, gpujs\)$/);
    expect(() => emitterFor('__proto__' as never)).toThrow(/unknown backend '__proto__'/);
  });
});
