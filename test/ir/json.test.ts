// Tests for the JSON form of graphs: round trips of every seed model, determinism, and validation errors.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { KilnError, ShapeError } from '../../src/ir/errors.ts';
import { graphNodes } from '../../src/ir/graph.ts';
import { canonicalJson, graphFromJson, graphToJson, GRAPH_FORMAT, GRAPH_VERSION, type GraphJson } from '../../src/ir/json.ts';
import { EXAMPLES, loadExample, tinyGraph } from './fixtures.ts';

/** A fresh, mutable copy of the tiny graph's JSON. */
const tinyJson = (): GraphJson => JSON.parse(JSON.stringify(graphToJson(tinyGraph())));

/** Expects `graphFromJson(json)` to throw a KilnError whose message matches `message`. */
function rejects(json: unknown, message: RegExp): KilnError {
  let caught: unknown;
  try {
    graphFromJson(json);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KilnError);
  expect((caught as Error).message).toMatch(message);
  return caught as KilnError;
}

describe('graphToJson', () => {
  it('writes format, version, dense topological ids and sorted attribute keys', () => {
    const json = graphToJson(tinyGraph());
    expect(json.format).toBe(GRAPH_FORMAT);
    expect(json.version).toBe(GRAPH_VERSION);
    expect(json.nodes.map((n) => n.id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(json.nodes.map((n) => n.op)).toEqual(['input', 'param', 'matmul', 'param', 'add', 'relu']);
    for (const n of json.nodes) {
      expect(n.inputs.every((i) => i < n.id)).toBe(true);
      expect(Object.keys(n.attrs)).toEqual(Object.keys(n.attrs).sort());
    }
    expect(json.inputs).toEqual([0]);
    expect(json.outputs).toEqual([{ name: 'y', node: 5 }]);
    expect(json.nodes[2]).toEqual({
      id: 2, op: 'matmul', inputs: [0, 1], attrs: {}, dtype: 'float32', shape: ['N', 3],
      layer: 'fc', layerKind: 'Dense', source: { file: 'model.ts', line: 3, column: 7 },
    });
  });

  it('gives equal JSON for equal graphs whatever their global node ids', () => {
    const a = tinyGraph();
    const b = tinyGraph();
    expect(a.outputs[0].node.id).not.toBe(b.outputs[0].node.id);
    expect(canonicalJson(graphToJson(a))).toBe(canonicalJson(graphToJson(b)));
  });

  it('writes non-finite constant values tagged, and rejects values JSON cannot hold', () => {
    const c = makeNode('const', [], { dtype: 'float32', shape: [3], values: [1, -Infinity, NaN] });
    const json = graphToJson({ name: 'c', inputs: [], outputs: [{ name: 'c', node: c }] });
    expect(JSON.stringify(json.nodes[0].attrs)).toBe('{"dtype":"float32","shape":[3],"values":[1,{"$number":"-Infinity"},{"$number":"NaN"}]}');
    expect(() => canonicalJson({ values: [1, () => 0] })).toThrow(/value\.values\[1\]: a function cannot be written as JSON/);
    expect(() => canonicalJson({ data: new Float32Array(2) })).toThrow(/value\.data: a Float32Array cannot be written as JSON/);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined members and has no whitespace', () => {
    expect(canonicalJson({ b: [{ z: 1, a: 2 }], a: 'x', u: undefined })).toBe('{"a":"x","b":[{"a":2,"z":1}]}');
  });
});

describe('round trip of every seed model', () => {
  it.each(EXAMPLES)('%s: serialise → parse → serialise is identical', async (name) => {
    const g = await loadExample(name);
    const text = canonicalJson(graphToJson(g));
    const rebuilt = graphFromJson(JSON.parse(text));
    expect(canonicalJson(graphToJson(rebuilt))).toBe(text);
    expect(rebuilt.name).toBe(g.name);
    expect(rebuilt.outputs.map((o) => [o.name, o.node.type])).toEqual(g.outputs.map((o) => [o.name, o.node.type]));
    expect(graphNodes(rebuilt)).toHaveLength(graphNodes(g).length);
  });

  it('covers all eleven buildable examples', () => {
    expect(EXAMPLES).toEqual(['cifar-cnn', 'cnn', 'cnn-small', 'cnn2', 'conv1d-signal', 'gru-copy', 'lenet', 'lstm-adding', 'mlp', 'mlp256', 'transformer-sort']);
  });
});

describe('graphFromJson validation', () => {
  it('accepts the tiny graph and re-infers every type', () => {
    const g = graphFromJson(tinyJson());
    expect(g.outputs[0].node.type).toEqual({ dtype: 'float32', shape: ['N', 3] });
    expect(g.outputs[0].node.meta).toEqual({ layer: 'fc', layerKind: 'Dense', source: { file: 'model.ts', line: 3, column: 7 } });
  });

  it('rejects input that is not an object', () => {
    for (const bad of [null, 42, 'graph', [1, 2]]) rejects(bad, /a serialised graph must be an object/);
    rejects(undefined, /a serialised graph is missing/);
  });

  it('rejects a wrong format or version', () => {
    rejects({ ...tinyJson(), format: 'onnx' }, /not a Kiln graph: format is 'onnx', expected 'kiln\.graph'/);
    rejects({ ...tinyJson(), format: undefined }, /format is missing/);
    rejects({ ...tinyJson(), version: 2 }, /unsupported kiln\.graph version 2: this Kiln reads version 1/);
  });

  it('rejects missing or mistyped fields, naming them', () => {
    const { name: _n, ...noName } = tinyJson();
    rejects(noName, /graph field "name" is missing/);
    const { nodes: _ns, ...noNodes } = tinyJson();
    rejects(noNodes, /graph field "nodes" is missing/);
    rejects({ ...tinyJson(), outputs: {} }, /graph field "outputs" must be an array/);
    const cases: [(j: GraphJson) => void, RegExp][] = [
      [(j) => delete (j.nodes[2] as Partial<GraphJson['nodes'][2]>).op, /node 2 field "op" is missing/],
      [(j) => delete (j.nodes[4] as Partial<GraphJson['nodes'][4]>).inputs, /node 4 field "inputs" is missing/],
      [(j) => ((j.nodes[1] as { attrs: unknown }).attrs = 5), /node 1 field "attrs" must be an object, got number 5/],
      [(j) => delete (j.nodes[5] as Partial<GraphJson['nodes'][5]>).dtype, /node 5 \(relu\) field "dtype" is missing/],
      [(j) => ((j.nodes[5] as { dtype: string }).dtype = 'float16'), /node 5 \(relu\): unknown dtype 'float16'/],
      [(j) => ((j.nodes[5] as { shape: unknown }).shape = ['N', -3]), /node 5 \(relu\) field "shape" must list/],
      [(j) => ((j.nodes[3] as { id: unknown }).id = 'three'), /nodes\[3\] field "id" must be a non-negative integer, got string 'three'/],
      [(j) => ((j.nodes[2] as { layer: unknown }).layer = 7), /node 2 field "layer" must be a string/],
      [(j) => ((j.nodes[2].source as { line: unknown }).line = -1), /node 2 source field "line" must be a non-negative integer/],
      [(j) => ((j.outputs[0] as { name: unknown }).name = undefined), /graph output 0 field "name" is missing/],
    ];
    for (const [mutate, message] of cases) {
      const json = tinyJson();
      mutate(json);
      rejects(json, message);
    }
  });

  it('rejects an unknown op, naming it and the node', () => {
    const json = tinyJson();
    json.nodes[5].op = 'frobnicate';
    rejects(json, /node 5: unknown op 'frobnicate'/);
  });

  it('rejects inputs that refer forward, to themselves or to missing nodes (so no cycles)', () => {
    const forward = tinyJson();
    forward.nodes[2].inputs = [0, 3];
    rejects(forward, /node 2 \(matmul\) reads node 3, which comes later/);
    const cycle = tinyJson();
    cycle.nodes[4].inputs = [5, 3]; // add reads relu, which reads add
    rejects(cycle, /node 4 \(add\) reads node 5, which comes later.*cycle/);
    const self = tinyJson();
    self.nodes[5].inputs = [5];
    rejects(self, /node 5 \(relu\) reads itself: the graph has a cycle/);
    const missing = tinyJson();
    missing.nodes[5].inputs = [99];
    rejects(missing, /node 5 \(relu\) reads node 99, which does not exist/);
    const twice = tinyJson();
    twice.nodes[3].id = 1;
    rejects(twice, /two nodes have id 1/);
  });

  it('rejects graph inputs and outputs that refer to missing nodes', () => {
    rejects({ ...tinyJson(), outputs: [{ name: 'y', node: 99 }] }, /graph output 'y' refers to node 99, which does not exist/);
    rejects({ ...tinyJson(), inputs: [7] }, /graph input 0 refers to node 7, which does not exist/);
    rejects({ ...tinyJson(), outputs: [{ name: 'y', node: 5 }, { name: 'y', node: 4 }] }, /output name 'y' is used twice/);
  });

  it('rejects a recorded type that differs from the inferred one, naming the node and layer', () => {
    const json = tinyJson();
    json.nodes[2].shape = ['N', 5];
    const e = rejects(json, /node 2 \(matmul in layer 'fc'\) records type float32\[N, 5\], but matmul infers float32\[N, 3\]/);
    expect(e).not.toBeInstanceOf(ShapeError);
    const dtype = tinyJson();
    dtype.nodes[5].dtype = 'float64';
    rejects(dtype, /node 5 \(relu in layer 'fc'\) records type float64\[N, 3\], but relu infers float32\[N, 3\]/);
  });

  it('lets the op rules reject inputs that do not fit, as a ShapeError naming the layer', () => {
    const json = tinyJson();
    json.nodes[1].attrs.shape = [5, 3];
    json.nodes[1].shape = [5, 3];
    const e = rejects(json, /layer 'fc' \(matmul\) at model\.ts:3:7: inner dimensions differ/);
    expect(e).toBeInstanceOf(ShapeError);
  });

  it('does not alias the caller’s attribute objects', () => {
    const json = tinyJson();
    const g = graphFromJson(json);
    (json.nodes[1].attrs.shape as number[])[0] = 99;
    expect(graphNodes(g)[1].attrs.shape).toEqual([4, 3]);
  });
});
