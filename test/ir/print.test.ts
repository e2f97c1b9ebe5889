// Tests for the text form of graphs: layout, attribute formatting, and sanitising of model-provided strings.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { dense, input } from '../../src/dsl/layers.ts';
import { model } from '../../src/dsl/model.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import { formatAttrValue, printGraph, printNode, sanitizeLine } from '../../src/ir/print.ts';
import { EXAMPLES, loadExample, tinyGraph } from './fixtures.ts';

/** Lines a printout must have: header, one per node not declared in the header, return, closing brace. */
const expectedLines = (g: Graph) => graphNodes(g).length - g.inputs.length + 3;

describe('printGraph', () => {
  it('prints a header, one line per node, a return line and a closing brace', () => {
    const text = printGraph(tinyGraph());
    expect(text.split('\n')).toEqual([
      'graph tiny(%0: f32[N,4] x) {',
      '  %1: f32[4,3] = param[name=fc/kernel init=zeros()]   # fc',
      '  %2: f32[N,3] = matmul(%0, %1)                       # fc',
      '  %3: f32[3] = param[name=fc/bias init=zeros()]       # fc',
      '  %4: f32[N,3] = add(%2, %3)                          # fc',
      '  %5: f32[N,3] = relu(%4)                             # fc',
      '  return { y: %5 }',
      '}',
    ]);
  });

  it.each(EXAMPLES)('%s: has the right number of lines, numbered densely', async (name) => {
    const g = await loadExample(name);
    // A scan's body prints nested under the scan's line, indented further: those lines are the body's own.
    const lines = printGraph(g).split('\n').filter((l) => !l.startsWith('    '));
    expect(lines).toHaveLength(expectedLines(g));
    expect(lines[0]).toMatch(/^graph \w+\(%0: (?:f32|i32)\[N,[\d,]+\] \w+\) \{$/);
    expect(lines.at(-2)).toMatch(/^ {2}return \{ \w+: %\d+ \}$/);
    expect(lines.at(-1)).toBe('}');
    lines.slice(1, -2).forEach((line, i) => expect(line.startsWith(`  %${i + g.inputs.length}: `)).toBe(true));
  });

  it('prints the cnn example in the documented form', async () => {
    const text = printGraph(await loadExample('cnn'));
    expect(text).toMatch(/^graph cnn\(%0: f32\[N,28,28,1\] input\) \{\n {2}%1: f32\[N,1,28,28\] = transpose\[perm=\[0,3,1,2\]\]\(%0\) +# input\n/);
    expect(text).toMatch(/ {2}%2: f32\[32,1,3,3\] = param\[name=conv2d_\d+\/kernel init=\w+\(.*\)\] +# conv2d_\d+\n/);
    expect(text).toMatch(/ {2}%3: f32\[N,32,26,26\] = conv2d\[strides=\[1,1\] pads=\[0,0,0,0\] dilations=\[1,1\] group=1\]\(%1, %2\) +# conv2d_\d+\n/);
    expect(text).toMatch(/\n {2}return \{ output: %19 \}\n\}$/);
  });

  it('sanitises hostile layer, parameter, output and graph names to single lines', () => {
    const x = input([3], { name: 'in\u2028put' });
    const y = dense(x, 2, { name: 'x\n*/ evil()' });
    const g = model({ name: 'm\r\n', inputs: x, outputs: { 'out\nput': y } }).graph;
    const text = printGraph(g);
    expect(text.split('\n')).toHaveLength(expectedLines(g));
    expect(text).not.toContain('*/');
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u2028\u2029]/);
    expect(text).toContain('# x\\n*\\/ evil()');
    expect(text).toContain('param[name="x\\n*\\/ evil()/kernel"');
    expect(text).toContain('return { "out\\nput": %');
    expect(text.split('\n')[0]).toBe('graph "m\\r\\n"(%0: f32[N,3] "in\\u2028put") {');
  });
});

describe('attribute formatting', () => {
  it('elides long constant arrays and keeps short ones', () => {
    const big = makeNode('const', [], { dtype: 'float32', shape: [784], values: Array.from({ length: 784 }, (_, i) => i) });
    expect(printNode(big, new Map([[big, 7]]))).toBe('%7: f32[784] = const[values=<784 values>]');
    const small = makeNode('const', [], { dtype: 'int32', shape: [3], values: [1, 2, 3] });
    expect(printNode(small, new Map([[small, 0]]))).toBe('%0: i32[3] = const[values=[1,2,3]]');
  });

  it('abbreviates dtypes, shows non-trainable params and names nodes by their own ids by default', () => {
    const c = makeNode('const', [], { dtype: 'float64', shape: [], values: [0.1 + 0.2] });
    const cast = makeNode('cast', [c], { to: 'int32' }, { layer: 'cast_1' });
    expect(printNode(cast)).toBe(`%${cast.id}: i32[] = cast[to=int32](%${c.id})   # cast_1`);
    expect(printNode(c)).toBe(`%${c.id}: f64[] = const[values=[0.3]]`);
    const p = makeNode('param', [], { name: 'bn/mean', dtype: 'float32', shape: [4], init: { kind: 'zeros' }, trainable: false });
    expect(printNode(p)).toContain('param[name=bn/mean init=zeros() trainable=false]');
  });

  it('formats values compactly on one line', () => {
    expect(formatAttrValue({ kind: 'uniform', low: -1 / 3, high: 1 / 3 })).toBe('uniform(low=-0.333333,high=0.333333)');
    expect(formatAttrValue({ b: [1, 'two'], a: null })).toBe('{b=[1,two],a=null}');
    expect(formatAttrValue('has space')).toBe('"has space"');
    expect(formatAttrValue(-Infinity)).toBe('-Infinity');
    expect(sanitizeLine('a\tb\u0000c */')).toBe('a\\tb\\u0000c *\\/');
  });
});
