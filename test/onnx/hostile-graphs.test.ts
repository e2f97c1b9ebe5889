// Hostile ONNX graphs: cycles, missing inputs, absurd shapes, and random mutations of a valid
// model (fast-check) give a clear KilnError or a graph — never another exception or a hang (a hang
// fails the property test by its timeout).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/ir/errors.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const info = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
type NodeSpec = { opType: string; input: string[]; output: string[]; name?: string };

function encode(nodes: NodeSpec[], extra: { initializer?: object[]; input?: object[] } = {}): Uint8Array {
  const graph = { name: 'g', input: extra.input ?? [info('x', [2, 3])], output: [info('y', [2, 3])], node: nodes, initializer: extra.initializer ?? [] };
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish();
}

function expectKilnError(bytes: Uint8Array, message: RegExp): void {
  let error: unknown;
  try {
    importOnnx(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(KilnError);
  expect((error as Error).message).toMatch(message);
}

describe('hostile graph structure', () => {
  it('a cycle (a node reading its own output, through another node) is an error naming what is read', () => {
    expectKilnError(encode([{ opType: 'Relu', input: ['b'], output: ['a'] }, { opType: 'Relu', input: ['a'], output: ['b'] }, { opType: 'Identity', input: ['a'], output: ['y'] }]), /reads 'b'/);
  });

  it('an input no node, graph input or initializer defines is an error', () => {
    expectKilnError(encode([{ opType: 'Add', input: ['x', 'nowhere'], output: ['y'] }]), /nowhere/);
  });

  it('an output nothing computes is an error', () => {
    expectKilnError(encode([{ opType: 'Relu', input: ['x'], output: ['z'] }]), /'y'/);
  });

  it('an absurd initializer shape (2^40 elements) is refused without allocating it', () => {
    const huge = { name: 'w', dataType: FLOAT, dims: [1 << 20, 1 << 20], rawData: new Uint8Array(16) };
    expectKilnError(encode([{ opType: 'Add', input: ['x', 'w'], output: ['y'] }], { initializer: [huge] }), /./);
  });

  it('an absurd input shape is a KilnError', () => {
    expectKilnError(encode([{ opType: 'Relu', input: ['x'], output: ['y'] }], { input: [info('x', [1 << 20, 1 << 21])] }), /./);
  });
});

describe('mutated models (fast-check)', () => {
  const valid = encode([
    { opType: 'Relu', input: ['x'], output: ['r'], name: 'relu' },
    { opType: 'Add', input: ['r', 'w'], output: ['y'], name: 'add' },
  ], { initializer: [{ name: 'w', dataType: FLOAT, dims: [3], floatData: [1, 2, 3] }] });

  // A mutation that made the importer loop forever would exceed this test's timeout (the hang
  // guard); how long an import takes is not asserted here (speed belongs to bench/).
  it('every mutation of a valid model imports or fails with a KilnError', { timeout: 60_000 }, () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(valid.length - 1), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(valid.length - 1) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(valid.length - 1), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let bytes = valid.slice();
        for (const m of mutations) {
          const at = Math.min(m.at, bytes.length - 1);
          if (m.kind === 'set') bytes[at] = m.byte;
          else if (m.kind === 'cut') bytes = bytes.slice(0, at);
          else bytes = Uint8Array.from([...bytes.slice(0, at), ...m.bytes, ...bytes.slice(at)]);
          if (bytes.length === 0) bytes = new Uint8Array([0]);
        }
        try {
          importOnnx(bytes);
        } catch (e) {
          if (!(e instanceof KilnError)) throw new Error(`not a KilnError: ${(e as Error).name}: ${(e as Error).message}`);
        }
      }),
      { numRuns: 400, seed: 42 },
    );
  });
});
