// The graph JSON fuzzer: mutants of graphToJson's output (values, attributes, shapes, ops, references, missing fields, prototype keys).
import fc from 'fast-check';
import { graphFromJson, graphToJson } from '../../src/ir/json.ts';
import { OPS } from '../../src/ir/ops/index.ts';
import { importOnnxBatched } from '../../src/onnx/batch.ts';
import { HOSTILE_FLOATS, HOSTILE_INTS, HOSTILE_NAMES, PAYLOADS, pick } from './hostile.ts';
import { classifyThrow, failed, pwned, resetPwned, type Outcome } from './oracle.ts';
import { compileRunCompare, type KnownValues } from './pipeline.ts';
import { allOnnxSeeds, exampleSeeds } from './seeds.ts';
import type { Target } from './targets.ts';

const KINDS = ['value', 'attr', 'shape', 'op', 'input', 'delete', 'proto', 'nodes', 'name'] as const;
interface Edit {
  kind: (typeof KINDS)[number];
  a: number;
  b: number;
  c: number;
}
export interface JsonMutant {
  seed: number;
  edits: Edit[];
  /** Whether the document goes through JSON text (as `kiln compile x.json` reads it: NaN becomes null). */
  viaText: boolean;
}

type Doc = Record<string, unknown>;
type NodeDoc = Record<string, unknown> & { attrs: Record<string, unknown>; inputs: unknown[]; shape: unknown[] };

/** Values that are wrong in some way somewhere: non-finite, huge, fractional, payloads, wrong types, prototype-keyed objects. */
const VALUES: unknown[] = [
  ...HOSTILE_FLOATS,
  ...HOSTILE_INTS,
  1.5,
  ...PAYLOADS,
  'N',
  '',
  null,
  true,
  [],
  [[]],
  [PAYLOADS[0]],
  [NaN, 1],
  {},
  JSON.parse('{"__proto__": {"polluted": 1}}'),
  { toString: PAYLOADS[0], valueOf: PAYLOADS[0] },
  { kind: PAYLOADS[0] },
];
const ATTR_KEYS = ['axis', 'axes', 'perm', 'shape', 'strides', 'padding', 'pads', 'dilation', 'groups', 'alpha', 'epsilon', 'value', 'values', 'name', 'init', 'least', 'countedPads', 'keepdims', 'dtype', 'min', 'max', 'trainable', '__proto__', 'constructor', 'toString'];
const OP_NAMES = [...Object.keys(OPS), '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'frobnicate'];

/** Sets an own property, even `__proto__` (plain assignment would change the prototype instead). */
const setOwn = (o: object, key: string, value: unknown) => Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });

/** Every object and array inside `doc`, with the keys each holds. */
function containers(doc: unknown): { holder: Record<string, unknown> | unknown[]; keys: string[] }[] {
  const out: { holder: Record<string, unknown> | unknown[]; keys: string[] }[] = [];
  const stack = [doc];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    const keys = Object.keys(v);
    out.push({ holder: v as Record<string, unknown>, keys });
    for (const k of keys) stack.push((v as Record<string, unknown>)[k]);
  }
  return out;
}

function edit(doc: Doc, { kind, a, b, c }: Edit): void {
  const nodes = Array.isArray(doc.nodes) ? (doc.nodes as NodeDoc[]).filter((n) => typeof n === 'object' && n !== null) : [];
  const node = nodes.length ? pick(nodes, a) : undefined;
  const value: unknown = structuredClone(pick(VALUES, c));
  switch (kind) {
    case 'value': {
      const all = containers(doc).filter((x) => x.keys.length);
      const { holder, keys } = pick(all, a);
      setOwn(holder, pick(keys, b), value);
      return;
    }
    case 'delete': {
      const all = containers(doc).filter((x) => x.keys.length && !Array.isArray(x.holder));
      const { holder, keys } = pick(all, a);
      delete (holder as Record<string, unknown>)[pick(keys, b)];
      return;
    }
    case 'attr':
      if (node && typeof node.attrs === 'object' && node.attrs) {
        const keys = Object.keys(node.attrs);
        setOwn(node.attrs, keys.length && b % 3 !== 0 ? pick(keys, b) : pick(ATTR_KEYS, b), value);
      }
      return;
    case 'shape':
      if (node && Array.isArray(node.shape)) {
        if (node.shape.length && b % 4 !== 0) node.shape[b % node.shape.length] = pick([...HOSTILE_INTS, 'N', 'M', null, 1.5], c);
        else if (b % 8 === 0) node.shape.push(pick(HOSTILE_INTS, c));
        else node.shape.pop();
      }
      return;
    case 'op':
      if (node) node.op = pick(OP_NAMES, b);
      return;
    case 'input':
      if (node && Array.isArray(node.inputs)) {
        const ref = pick([node.id, (node.id as number) + 1, -1, 1.5, '0', null, nodes.length, 2 ** 53], c >> 1);
        const other = c % 2 === 0 ? pick(nodes, c).id : ref;
        if (node.inputs.length && b % 3 !== 0) node.inputs[b % node.inputs.length] = other;
        else if (b % 2 === 0) node.inputs.push(other);
        else node.inputs.pop();
      }
      return;
    case 'proto': {
      const all = containers(doc).filter((x) => !Array.isArray(x.holder));
      setOwn(pick(all, a).holder, pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'], b), value);
      return;
    }
    case 'nodes': {
      const list = doc.nodes as unknown[];
      if (!Array.isArray(list) || !list.length) return;
      const i = a % list.length;
      if (b % 3 === 0) list.splice(i, 1);
      else if (b % 3 === 1) list.splice(i + 1, 0, structuredClone(list[i]));
      else [list[i], list[c % list.length]] = [list[c % list.length], list[i]];
      return;
    }
    case 'name': {
      const hostile = pick(HOSTILE_NAMES, b);
      const outs = Array.isArray(doc.outputs) ? (doc.outputs as Record<string, unknown>[]).filter((o) => typeof o === 'object' && o) : [];
      const sources = nodes.filter((n) => n.op === 'input' || n.op === 'param');
      if (c % 4 === 0) doc.name = hostile;
      else if (c % 4 === 1 && outs.length) pick(outs, a).name = hostile;
      else if (c % 4 === 2 && sources.length) setOwn(pick(sources, a).attrs ?? {}, 'name', hostile);
      else if (node) node.layer = hostile;
    }
  }
}

/** A deep copy that keeps own `__proto__` keys (JSON text round trips do too). */
const cloneDoc = (doc: unknown): Doc => JSON.parse(JSON.stringify(doc)) as Doc;

export async function jsonTarget(): Promise<Target<JsonMutant>> {
  const seeds: { name: string; json: unknown; known: KnownValues }[] = (await exampleSeeds()).map((e) => ({ name: e.name, json: graphToJson(e.graph), known: new Map() }));
  for (const s of await allOnnxSeeds()) {
    if (s.name.startsWith('examples/')) continue;
    seeds.push({ name: s.name, json: graphToJson(importOnnxBatched(s.bytes, { inputValues: s.inputValues })), known: s.known });
  }
  const mutate = (m: JsonMutant): unknown => {
    const doc = cloneDoc(seeds[m.seed].json);
    for (const e of m.edits) edit(doc, e);
    return m.viaText ? JSON.parse(JSON.stringify(doc)) : doc;
  };
  const run = async (m: JsonMutant): Promise<Outcome> => {
    const doc = mutate(m);
    resetPwned();
    let graph;
    try {
      graph = graphFromJson(doc);
    } catch (e) {
      return pwned() ? failed('graphFromJson', 'payload ran while reading JSON', 'globalThis.__pwned was set') : classifyThrow('graphFromJson', e);
    }
    return compileRunCompare(graph, { known: seeds[m.seed].known, seed: m.seed + 1 });
  };
  const editArb = fc.record({ kind: fc.constantFrom(...KINDS), a: fc.nat(1 << 20), b: fc.nat(1 << 20), c: fc.nat(1 << 20) });
  return {
    name: 'json',
    arbitrary: fc.record({ seed: fc.nat(seeds.length - 1), edits: fc.array(editArb, { minLength: 1, maxLength: 3 }), viaText: fc.boolean() }),
    run,
    artifact: (m) => ({ data: JSON.stringify(mutate(m), (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1), ext: 'json' }),
  };
}
