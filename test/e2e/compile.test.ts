// End to end: every example compiles to a module that imports, predicts like the reference interpreter, type-checks and rejects bad input.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compileModel, type CompiledModel } from '../../compiler/compile.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { freshOutDir, importModule, loadExampleGraph, perSample, randomFloats, randomizeZeroTensors, ROOT, type EmittedModule } from './helpers.ts';

const MODELS = ['mlp', 'mlp256', 'cnn', 'cnn-small', 'lenet', 'cnn2', 'cifar-cnn'] as const;
/** Models whose last layer is a softmax (rows of their output sum to 1). */
const SOFTMAX = new Set(['mlp', 'cnn', 'cnn-small', 'cifar-cnn']);

interface Built {
  graph: Graph;
  compiled: CompiledModel;
  module: EmittedModule;
  weights: { bytes: Uint8Array; byName: Record<string, Float32Array> };
}

let OUT = '';
const built = new Map<string, Built>();
const stemOf = (name: string) => name.replace(/-/g, '_');

/** Compiles `graph`, writes `<stem>.ts` and `<stem>.js` into OUT, and imports the JavaScript. */
async function emit(stem: string, graph: Graph, options: Parameters<typeof compileModel>[1] = {}) {
  const compiled = compileModel(graph, { seed: 3, ...options });
  writeFileSync(path.join(OUT, `${stem}.ts`), compiled.ts);
  writeFileSync(path.join(OUT, `${stem}.js`), compiled.js);
  return { compiled, module: await importModule(path.join(OUT, `${stem}.js`)) };
}

beforeAll(async () => {
  OUT = freshOutDir('e2e-compile');
  for (const [i, name] of MODELS.entries()) {
    const graph = await loadExampleGraph(name);
    const { compiled, module } = await emit(stemOf(name), graph);
    built.set(name, { graph, compiled, module, weights: randomizeZeroTensors(compiled.weights, 100 + i) });
  }
}, 300_000);

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(MODELS)('%s', (name) => {
  // cifar-cnn is big: the interpreter takes tens of seconds per sample, so it is checked at batch 1.
  const refBatch = name === 'cifar-cnn' ? 1 : 3;
  const bigBatch = name === 'cifar-cnn' ? 2 : 3;

  it('predicts what the reference interpreter computes, at batch 1 and a larger one, and at 1 again', () => {
    const { graph, module, weights } = built.get(name)!;
    const input = graph.inputs[0];
    const output = graph.outputs[0];
    const inPer = perSample(input.type.shape);
    const outPer = perSample(output.node.type.shape);
    const x = randomFloats(inPer * bigBatch, 7, 0, 1);
    const want = interpret(graph, { [String(input.attrs.name)]: x.slice(0, inPer * refBatch) }, weights.byName, refBatch)[output.name];
    expect(want).toHaveLength(outPer * refBatch);

    const model = module.createModel(weights.bytes);
    const first = x.slice(0, inPer);
    expect(model.predict(first, 1)).toBeAllclose(want.subarray(0, outPer), { rtol: 1e-5, atol: 1e-6 });
    const big = model.predict(x, bigBatch);
    expect(big).toBeInstanceOf(Float32Array);
    expect(big).toHaveLength(outPer * bigBatch);
    expect(big.subarray(0, outPer * refBatch)).toBeAllclose(want, { rtol: 1e-5, atol: 1e-6 });
    // A smaller batch after a larger one reuses the grown buffers and still computes the right thing.
    expect(model.predict(first, 1)).toBeAllclose(want.subarray(0, outPer), { rtol: 1e-5, atol: 1e-6 });
    // run() agrees with predict(), by output name.
    const ran = model.run({ [String(input.attrs.name)]: x }, bigBatch);
    expect(Object.keys(ran)).toEqual(graph.outputs.map((o) => o.name));
    expect(ran[output.name]).toEqual(big);
    if (SOFTMAX.has(name)) {
      for (let r = 0; r < bigBatch; r++) expect(big.subarray(r * outPer, (r + 1) * outPer).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
  }, 600_000);

  it('describes itself: name, inputs, outputs and parameters in weight-file order', () => {
    const { graph, compiled, module } = built.get(name)!;
    expect(module.modelName).toBe(graph.name);
    expect(module.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual(graph.inputs.map((n) => [n.attrs.name, n.type.dtype, n.type.shape]));
    expect(module.outputs.map((o) => o.name)).toEqual(graph.outputs.map((o) => o.name));
    expect(module.parameters.map((p) => p.name)).toEqual(decodeWeights(compiled.weights).tensors.map((t) => t.name));
  });
});

describe('inputs and weights the module rejects', () => {
  const cnn = () => built.get('cnn')!;

  it('wrong length: RangeError naming the expected shape', () => {
    const model = cnn().module.createModel(cnn().weights.bytes);
    expect(() => model.predict(new Float32Array(3 * 784 - 1), 3)).toThrow(RangeError);
    expect(() => model.predict(new Float32Array(3 * 784 - 1), 3)).toThrow(/\[3, 28, 28, 1\]/);
    expect(() => model.predict(new Float32Array(784), 3)).toThrow(/2352 values/);
  });

  it('wrong dtype: TypeError naming Float32Array', () => {
    const model = cnn().module.createModel(cnn().weights.bytes);
    expect(() => model.predict(new Float64Array(784), 1)).toThrow(TypeError);
    expect(() => model.predict(new Float64Array(784), 1)).toThrow(/Float32Array/);
    expect(() => model.predict([...new Float32Array(784)], 1)).toThrow(TypeError);
  });

  it.each([0, -1, 1.5, NaN])('batch %s: RangeError', (batch) => {
    const model = cnn().module.createModel(cnn().weights.bytes);
    expect(() => model.predict(new Float32Array(784), batch)).toThrow(RangeError);
    expect(() => model.predict(new Float32Array(784), batch)).toThrow(/batch/);
  });

  it('a weight file with one flipped bit: WeightFileError about the checksum', () => {
    const bytes = cnn().weights.bytes.slice();
    bytes[Math.floor(bytes.length / 2)] ^= 0x10;
    let err: unknown;
    try {
      cnn().module.createModel(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('WeightFileError');
    expect((err as Error).message).toMatch(/checksum/);
  });

  it("another model's weights: an error naming the parameter and both shapes", () => {
    // lenet and mlp256 both have fc1 and fc2, of different shapes.
    expect(() => built.get('lenet')!.module.createModel(built.get('mlp256')!.weights.bytes)).toThrow(
      expect.objectContaining({ name: 'WeightFileError', message: expect.stringMatching(/"fc1\/kernel".*\[320, 50\].*\[784, 256\]/) }),
    );
  });

  it('weights by name: a missing or mis-sized array is an error naming the parameter', () => {
    const { module, weights } = built.get('mlp256')!;
    const { ['fc2/bias']: _dropped, ...missing } = weights.byName;
    expect(() => module.createModel(missing)).toThrow(/fc2\/bias/);
    expect(() => module.createModel({ ...weights.byName, 'fc1/bias': new Float32Array(3) })).toThrow(/fc1\/bias.*\[256\]/);
  });
});

describe('inlined weights', () => {
  it('createModel() without arguments uses the embedded weights, like createModel(weights)', async () => {
    const graph = built.get('mlp')!.graph;
    const { compiled, module } = await emit('mlp_inline', graph, { inlineWeights: true, seed: 9 });
    expect(compiled.js).toContain('fromBase64');
    const x = randomFloats(784 * 2, 12, 0, 1);
    const inline = module.createModel().predict(x, 2);
    const given = module.createModel(compiled.weights).predict(x, 2);
    expect(Array.from(inline)).toEqual(Array.from(given));
    const byName = Object.fromEntries(decodeWeights(compiled.weights).tensors.map((t) => [t.name, t.data]));
    expect(inline).toBeAllclose(interpret(graph, { [String(graph.inputs[0].attrs.name)]: x }, byName, 2)[graph.outputs[0].name]);
  });
});

/** Source text with every string literal's contents removed: what remains is code and comments. */
function codeOutsideStrings(source: string): string {
  const file = ts.createSourceFile('m.ts', source, ts.ScriptTarget.ES2022, true);
  const cuts: [number, number][] = [];
  const visit = (n: ts.Node) => {
    if (ts.isStringLiteral(n)) cuts.push([n.getStart(), n.getEnd()]);
    ts.forEachChild(n, visit);
  };
  visit(file);
  let text = '';
  let at = 0;
  for (const [s, e] of cuts.sort((a, b) => a[0] - b[0])) {
    text += source.slice(at, s) + '""';
    at = e;
  }
  return text + source.slice(at);
}

/** Every identifier in a module's syntax tree. */
function identifiers(source: string): Set<string> {
  const file = ts.createSourceFile('m.ts', source, ts.ScriptTarget.ES2022, true);
  const out = new Set<string>();
  const visit = (n: ts.Node) => {
    if (ts.isIdentifier(n)) out.add(n.text);
    ts.forEachChild(n, visit);
  };
  visit(file);
  return out;
}

describe('hostile names', () => {
  const H = ['*/ process.exit(1) /*', '`${process.exit(1)}`', '\u2028', "'); process.exit(1); ('", '"\n" + process.exit(1) + "'];

  function hostileGraph(): Graph {
    const meta = { layer: H[0], layerKind: H[1] };
    const x = makeNode('input', [], { name: H[0], dtype: 'float32', shape: ['N', 3] }, { layer: H[2] });
    const w = makeNode('param', [], { name: H[1], dtype: 'float32', shape: [3, 4], init: { kind: 'glorotUniform', fanIn: 3, fanOut: 4 }, trainable: true }, meta);
    const b = makeNode('param', [], { name: H[2], dtype: 'float32', shape: [4], init: { kind: 'uniform', low: -1, high: 1 }, trainable: true }, meta);
    const h = makeNode('relu', [makeNode('add', [makeNode('matmul', [x, w], {}, meta), b], {}, meta)], {}, { layer: H[3] });
    const y = makeNode('softmax', [h], { axis: -1 }, { layer: H[4] });
    return { name: H.join(''), inputs: [x], outputs: [{ name: H[1], node: y }, { name: H[4], node: h }] };
  }

  it('compile to a module that imports and runs without exiting, and keep the names out of code', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`process.exit(${code}) called`);
    }) as typeof process.exit);
    const graph = hostileGraph();
    const { compiled, module } = await emit('hostile', graph);
    for (const source of [compiled.ts, compiled.js]) {
      const code = codeOutsideStrings(source);
      // Outside string literals the names may only appear defused, inside comments.
      expect(code).not.toContain('*/ process.exit');
      expect(code).not.toMatch(/[\u2028\u2029]/);
      const mentions = code.split('\n').filter((l) => l.includes('process.exit'));
      expect(mentions.filter((l) => !/^\s*(\/\*|\*)/.test(l))).toEqual([]);
      // And nothing in the syntax tree refers to `process`: no name escaped into code.
      expect(identifiers(source).has('process')).toBe(false);
    }
    expect(module.modelName).toBe(graph.name);
    expect(module.inputs[0].name).toBe(H[0]);
    expect(module.outputs.map((o) => o.name)).toEqual([H[1], H[4]]);
    expect(module.parameters.map((p) => p.name)).toEqual([H[1], H[2]]);

    const x = randomFloats(6, 4);
    const model = module.createModel(compiled.weights);
    const got = model.run({ [H[0]]: x }, 2);
    const byName = Object.fromEntries(decodeWeights(compiled.weights).tensors.map((t) => [t.name, t.data]));
    const want = interpret(graph, { [H[0]]: x }, byName, 2);
    expect(got[H[1]]).toBeAllclose(want[H[1]]);
    expect(got[H[4]]).toBeAllclose(want[H[4]]);
    expect(model.predict(x, 2)).toBeAllclose(want[H[1]]);
    expect(exit).not.toHaveBeenCalled();
  });
});

describe('the emitted TypeScript', () => {
  it('type-checks with tsc (strict, NodeNext) together with a consumer that calls it', () => {
    const stems = readdirSync(OUT).filter((f) => f.endsWith('.ts') && f !== 'consumer.ts').map((f) => f.slice(0, -3));
    expect(stems).toEqual(expect.arrayContaining(MODELS.map(stemOf)));
    const consumer = stems.flatMap((s) => {
      const mod = built.get(MODELS.find((m) => stemOf(m) === s) ?? '')?.module;
      const inPer = mod ? perSample(mod.inputs[0].shape) : 3;
      return [
        `import * as m_${s} from './${s}.js';`,
        `{`,
        `  const model: m_${s}.Model = m_${s}.createModel(new Uint8Array(0), { seed: 1 });`,
        `  const y: Float32Array = model.predict(new Float32Array(${inPer}), 1);`,
        `  const all: Record<string, Float32Array | Float64Array | Int32Array> = model.run({}, 1);`,
        `  const info: readonly m_${s}.TensorInfo[] = m_${s}.inputs;`,
        `  const names: string[] = m_${s}.parameters.map((p) => p.name);`,
        `  const fresh: m_${s}.Model = m_${s}.createModel();`,
        `  // @ts-expect-error predict takes a Float32Array`,
        `  model.predict(new Float64Array(${inPer}), 1);`,
        `  // @ts-expect-error weights are bytes, a file's path or arrays by name, not a number`,
        `  m_${s}.createModel(42);`,
        `  void [y, all, info, names, fresh];`,
        `}`,
      ];
    });
    writeFileSync(path.join(OUT, 'consumer.ts'), consumer.join('\n') + '\n');
    const tsconfig = {
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        skipLibCheck: true,
        noEmit: true,
        allowImportingTsExtensions: false,
        types: [],
      },
      files: [...stems.map((s) => `${s}.ts`), 'consumer.ts'],
    };
    writeFileSync(path.join(OUT, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    let status = 0;
    try {
      output = execFileSync(process.execPath, [tsc, '-p', path.join(OUT, 'tsconfig.json')], { cwd: OUT, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      status = err.status;
      output = `${err.stdout}${err.stderr}`;
    }
    expect(output).toBe('');
    expect(status, output).toBe(0);
  }, 120_000);
});
