// Kiln's protobuf codec for onnx.proto (src/onnx/wire.ts, codec.ts, schema.ts) against byte
// sequences worked out by hand from the wire format's rules (protobuf.dev/programming-guides/encoding),
// not against another codec; then a round trip over ONNX's own node-test models.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../cli/conformance/run.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { decodeMessage, onnx, OnnxFormatError } from '../../src/onnx/proto.ts';

const bytes = (...b: number[]) => new Uint8Array(b);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const encodeAttr = (a: object) => onnx.AttributeProto.encode(onnx.AttributeProto.create(a)).finish();
const ff9 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];

describe('varints', () => {
  it('300 is ac 02 (low 7 bits first, the top bit says more follow)', () => {
    expect(hex(onnx.ModelProto.encode({ irVersion: 300 }).finish())).toBe('08ac02');
    expect(onnx.ModelProto.decode(bytes(0x08, 0xac, 0x02)).irVersion).toBe(300);
  });

  it('a negative int64 is ten bytes of two’s complement', () => {
    expect([...encodeAttr({ i: -1 })]).toEqual([0x18, ...ff9]);
    expect(onnx.AttributeProto.decode(bytes(0x18, ...ff9)).i).toBe(-1);
    const min = [0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
    expect([...encodeAttr({ i: -(2 ** 63) })]).toEqual(min);
    expect(onnx.AttributeProto.decode(bytes(...min)).i).toBe(-(2 ** 63));
  });

  it('values beyond 2^32 keep their high bits', () => {
    // 2^35: bit 35 is bit 0 of the sixth 7-bit group.
    expect(hex(encodeAttr({ i: 2 ** 35 }))).toBe('188080808080' + '01');
    expect(onnx.AttributeProto.decode(bytes(0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)).i).toBe(2 ** 35);
    expect(onnx.AttributeProto.decode(encodeAttr({ i: 2 ** 53 - 1 })).i).toBe(2 ** 53 - 1);
    expect(onnx.AttributeProto.decode(encodeAttr({ i: -(2 ** 40) - 3 })).i).toBe(-(2 ** 40) - 3);
  });

  it('uint64 reads all 64 bits as unsigned; int32 and enums sign-extend negatives to ten bytes', () => {
    const t = onnx.TensorProto.decode(bytes(0x5a, 10, ...ff9));
    expect(t.uint64Data).toEqual([2 ** 64]); // 2^64 − 1, the nearest double
    expect([...onnx.TensorProto.encode({ dataType: -1 }).finish()]).toEqual([0x10, ...ff9]);
    expect(onnx.TensorProto.decode(bytes(0x10, ...ff9)).dataType).toBe(-1);
  });

  it('takes Long-like { low, high } values as protobufjs did', () => {
    expect([...encodeAttr({ i: { low: -1, high: -1 } })]).toEqual([0x18, ...ff9]);
  });
});

describe('fixed-width numbers', () => {
  it('float is fixed32 little-endian, double fixed64', () => {
    expect(hex(encodeAttr({ f: 1.5 }))).toBe('15' + '0000c03f');
    expect(onnx.AttributeProto.decode(bytes(0x15, 0, 0, 0xc0, 0x3f)).f).toBe(1.5);
    expect(hex(onnx.TensorProto.encode({ doubleData: [1] }).finish())).toBe('5208' + '000000000000f03f');
  });
});

describe('repeated numbers', () => {
  it('are written packed: one record, its length, the values', () => {
    expect(hex(onnx.TensorProto.encode({ dims: [3, 300] }).finish())).toBe('0a03' + '03' + 'ac02');
    expect(hex(encodeAttr({ floats: [1, -2] }))).toBe('3a08' + '0000803f' + '000000c0');
  });

  it('are read packed, unpacked, or both mixed', () => {
    expect(onnx.TensorProto.decode(bytes(0x0a, 0x03, 0x03, 0xac, 0x02)).dims).toEqual([3, 300]);
    expect(onnx.TensorProto.decode(bytes(0x08, 0x03, 0x08, 0xac, 0x02)).dims).toEqual([3, 300]);
    expect(onnx.TensorProto.decode(bytes(0x08, 0x07, 0x0a, 0x01, 0x05, 0x08, 0x09)).dims).toEqual([7, 5, 9]);
    expect(onnx.TensorProto.decode(bytes(0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f)).doubleData).toEqual([1]);
    expect(onnx.AttributeProto.decode(bytes(0x3d, 0, 0, 0x80, 0x3f, 0x3d, 0, 0, 0, 0xc0)).floats).toEqual([1, -2]);
  });

  it('a packed value that runs past its record is an error', () => {
    expect(() => onnx.TensorProto.decode(bytes(0x0a, 0x01, 0xac, 0x02))).toThrow(/overruns its record/);
  });
});

describe('length-delimited records', () => {
  it('nest: a model holding a graph holding a node', () => {
    const b = onnx.ModelProto.encode({ graph: { node: [{ opType: 'Relu' }] } }).finish();
    expect(hex(b)).toBe('3a08' + '0a06' + '2204' + Buffer.from('Relu').toString('hex'));
    expect(onnx.ModelProto.decode(b).graph?.node?.[0].opType).toBe('Relu');
  });

  it('a record of 128 bytes or more takes a two-byte length', () => {
    const b = onnx.NodeProto.encode({ opType: 'x'.repeat(200) }).finish();
    expect(hex(b.subarray(0, 3))).toBe('22c801');
    const m = onnx.ModelProto.encode({ graph: { node: [{ opType: 'x'.repeat(200) }] } }).finish();
    expect(hex(m.subarray(0, 7))).toBe('3ace01' + '0acb01' + '22');
    expect(onnx.ModelProto.decode(m).graph?.node?.[0].opType).toBe('x'.repeat(200));
  });

  it('strings are UTF-8; bytes decode as views of the input, not copies', () => {
    expect(hex(onnx.NodeProto.encode({ name: 'é😀' }).finish())).toBe('1a06' + 'c3a9' + 'f09f9880');
    const input = bytes(0x4a, 0x02, 0x07, 0x08);
    const raw = onnx.TensorProto.decode(input).rawData;
    expect([...raw]).toEqual([7, 8]);
    expect(raw.buffer).toBe(input.buffer);
  });
});

describe('what decoding gives for absent fields, and what encoding writes', () => {
  it('absent fields read as protobufjs defaults', () => {
    const m = onnx.ModelProto.decode(bytes(0x08, 0x01));
    expect([m.producerName, m.modelVersion, m.graph, m.opsetImport]).toEqual(['', 0, null, []]);
    const t = onnx.TensorProto.decode(bytes(0x10, 0x01));
    expect([t.rawData.length, t.dims, t.segment, t.dataLocation]).toEqual([0, [], null, 0]);
    const d = onnx.TensorShapeProto.Dimension.decode(bytes(0x1a, 0x00));
    expect([d.dimValue, d.dimParam, d.denotation]).toEqual([null, null, '']);
    expect(Object.keys(t).sort()).toEqual(['dataType', 'dims', 'doubleData', 'externalData', 'floatData', 'int32Data', 'int64Data', 'stringData', 'uint64Data']);
  });

  it('writes set fields, even at their default, by field number; leaves null, unset and empty repeated fields out', () => {
    expect(hex(onnx.NodeProto.encode({ domain: 'd', name: '', input: [], output: undefined, docString: null }).finish())).toBe('1a00' + '3a0164');
    expect(onnx.ModelProto.encode(onnx.ModelProto.decode(bytes(0x08, 0x01))).finish()).toEqual(bytes(0x08, 0x01));
  });

  it('enums map names to numbers and numbers to names', () => {
    expect(onnx.TensorProto.DataType.FLOAT).toBe(1);
    expect(onnx.TensorProto.DataType[16]).toBe('BFLOAT16');
    expect(onnx.AttributeProto.AttributeType.INTS).toBe(7);
  });

  it('verify names the first field that does not fit, as protobufjs did', () => {
    expect(onnx.AttributeProto.verify({ name: 'a', ints: [1, 2], t: { dims: [2] } })).toBeNull();
    expect(onnx.AttributeProto.verify({ name: 5 })).toBe('name: string expected');
    expect(onnx.AttributeProto.verify({ ints: [1.5] })).toBe('ints: integer|Long[] expected');
    expect(onnx.AttributeProto.verify({ type: 99 })).toBe('type: enum value expected');
    expect(onnx.AttributeProto.verify({ g: { node: [{ attribute: [{ f: 'a' }] }] } })).toBe('g.node.attribute.f: number expected');
    expect(onnx.TensorShapeProto.Dimension.verify({ dimValue: 1, dimParam: 'N' })).toBe('value: multiple values');
  });
});

describe('unknown fields', () => {
  // Field 99 of each wire type around irVersion = 1 (tag 08): tags 99·8 + wire type.
  const UNKNOWN: Record<string, number[]> = {
    varint: [0x98, 0x06, 0xff, 0x01],
    fixed64: [0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8],
    'length-delimited': [0x9a, 0x06, 0x02, 0xaa, 0xbb],
    fixed32: [0x9d, 0x06, 1, 2, 3, 4],
    'group (with a nested group inside)': [0x9b, 0x06, 0x08, 0x01, 0x13, 0x08, 0x02, 0x14, 0x9c, 0x06],
  };
  for (const [kind, field] of Object.entries(UNKNOWN)) {
    it(`skips a ${kind} field`, () => {
      const m = onnx.ModelProto.decode(bytes(...field, 0x08, 0x01, ...field));
      expect(m.irVersion).toBe(1);
      expect(Object.keys(m).filter((k) => !Array.isArray(m[k as keyof typeof m]))).toEqual(['irVersion']);
    });
  }

  it('skips a known field sent with another wire type', () => {
    expect(onnx.ModelProto.decode(bytes(0x0a, 0x01, 0x05, 0x08, 0x02)).irVersion).toBe(2);
  });
});

describe('truncated and corrupt input throws', () => {
  const CASES: [string, number[], RegExp][] = [
    ['a varint cut off', [0x08], /index out of range/],
    ['a varint of 11 bytes', [0x08, ...ff9.slice(0, 9), 0xff, 0x01], /invalid varint/],
    ['a length past the end', [0x3a, 0x05, 0x0a], /index out of range: 2 \+ 5 > 3/],
    ['a float cut off', [0x15, 0, 0], /index out of range/],
    ['a double cut off', [0x51, 0, 0, 0, 0], /index out of range/],
    ['wire type 7', [0x0f, 0x00], /invalid wire type 7/],
    ['an end-group tag with no group', [0x0c], /invalid wire type 4/],
    ['an unterminated group', [0x9b, 0x06, 0x08, 0x01], /index out of range/],
    ['field number 0', [0x00, 0x01], /field number 0/],
    ['a sub-message whose last field runs past its length', [0x3a, 0x02, 0x12, 0x03, 0x61, 0x62, 0x63], /overruns the message/],
  ];
  for (const [what, b, error] of CASES) {
    it(what, () => {
      expect(() => onnx.ModelProto.decode(bytes(...b))).toThrow(error);
      expect(() => decodeMessage('ONNX model', bytes(...b), (x) => onnx.ModelProto.decode(x))).toThrow(OnnxFormatError);
    });
  }

  it('every proper prefix of a model that ends inside a field is refused', () => {
    const b = onnx.ModelProto.encode({ irVersion: 8, graph: { name: 'g', node: [{ opType: 'Relu', input: ['x'] }] } }).finish();
    // Prefixes ending between top-level fields are valid messages; 2 (after irVersion) is the only one here.
    for (let n = 1; n < b.length; n++) if (n !== 2) expect(() => onnx.ModelProto.decode(b.subarray(0, n)), `prefix ${n}`).toThrow();
  });
});

/** A length-delimited field `no` holding `body`. */
function lenField(no: number, body: Uint8Array): Uint8Array {
  return new Uint8Array([no * 8 + 2, ...varint(body.length), ...body]);
}
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 128; n = Math.floor(n / 128)) out.push((n % 128) | 128);
  return [...out, n];
}

/**
 * A message nesting `fields` (outermost first) `times` times around `core`, in linear time: the
 * headers are worked out from the inside and written outermost first.
 */
function nest(fields: number[], times: number, core: Uint8Array = new Uint8Array(0)): Uint8Array {
  const headers: number[][] = [];
  let size = core.length;
  for (let i = 0; i < times; i++)
    for (const no of [...fields].reverse()) {
      const h = [no * 8 + 2, ...varint(size)];
      headers.push(h);
      size += h.length;
    }
  return new Uint8Array([...headers.reverse().flat(), ...core]);
}

// TypeProto.sequenceType (4) → Sequence.elemType (1) → TypeProto …
const nestedTypes = (levels: number) => nest([4, 1], levels);

describe('nesting', () => {
  it('decodes 40 levels of nested messages', () => {
    let t = onnx.TypeProto.decode(nestedTypes(40));
    let depth = 0;
    while (t.sequenceType?.elemType) [t, depth] = [t.sequenceType.elemType as typeof t, depth + 1];
    expect(depth).toBe(40);
  });

  it('refuses absurd nesting with an error, not a stack overflow', () => {
    expect(() => onnx.TypeProto.decode(nestedTypes(100_000))).toThrow(/nested more than 100 deep/);
  });

  it('a model whose node attributes nest graphs 1,000 deep is an OnnxFormatError', () => {
    let g: object = { name: 'leaf' };
    const graphs: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) {
      g = { node: [{ opType: 'If', attribute: [{ name: 'then_branch', g }] }] };
      if (i === 20) graphs.push(onnx.GraphProto.encode(g).finish());
    }
    expect(() => onnx.GraphProto.encode(g).finish()).toThrow(/nested more than 100 deep/);
    // GraphProto.node (1) → NodeProto.attribute (5) → AttributeProto.g (6) → GraphProto …, in a ModelProto's graph (7).
    const model = lenField(7, nest([1, 5, 6], 1000, graphs[0]));
    expect(() => importOnnx(model)).toThrow(OnnxFormatError);
    expect(() => importOnnx(model)).toThrow(/nested more than 100 deep/);
  });

  it('a cycle in the objects to encode is an error', () => {
    const a: Record<string, unknown> = { opType: 'If' };
    a.attribute = [{ g: { node: [a] } }];
    expect(() => onnx.NodeProto.encode(a).finish()).toThrow(/nested more than 100 deep/);
  });
});

const NODE_TESTS = path.resolve(REPO_ROOT, '..', 'shared', 'onnx-node-tests');

// Skipped where the node tests are not beside the repository (as conformance.test.ts is).
describe.skipIf(!existsSync(NODE_TESTS))('ONNX node-test models (../shared/onnx-node-tests)', () => {
  it('decode(encode(decode(b))) equals decode(b), and encoding is stable, for every model of MANIFEST.tsv', () => {
    const names = readFileSync(path.join(NODE_TESTS, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[0]);
    expect(names.length).toBeGreaterThan(400);
    for (const name of names) {
      const file = new Uint8Array(readFileSync(path.join(NODE_TESTS, name, 'model.onnx')));
      const once = onnx.ModelProto.decode(file);
      const b = onnx.ModelProto.encode(once).finish();
      const twice = onnx.ModelProto.decode(b);
      expect(twice, name).toEqual(once);
      expect(hex(onnx.ModelProto.encode(twice).finish()), name).toBe(hex(b));
      expect(onnx.ModelProto.verify(once), name).toBeNull();
    }
  });
});
