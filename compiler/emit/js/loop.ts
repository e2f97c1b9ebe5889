// The JavaScript backend's host schedule: kernel calls, and each loop as a `for` over its body's
// kernel calls with the time slices copied in and the carry copied out (compiler/lower/loop.ts),
// unless the body's last kernel wrote the next carry in place.
// The loop's text is the body's, whatever the number of steps: a module does not grow with T.
import type { Node } from '../../../src/ir/node.ts';
import { BATCH, sampleSize, type Dim } from '../../../src/ir/shape.ts';
import { intLiteral } from '../../codegen/literal.ts';
import type { Kernel } from '../../lower/kernel.ts';
import type { Loop, Step } from '../../lower/loop.ts';

/**
 * How the schedule's statements name storage, call a kernel and wrap a loop. `call` is every
 * kernel's statement, a loop body's included, so what an entry point adds to a call (the index
 * its errors are named by, timing) applies inside loops as well; `loop` wraps a loop's whole text
 * (timing its copies).
 */
export interface ScheduleNames {
  ref(n: Node): string;
  call(k: Kernel): string;
  loop?(l: Loop, lines: readonly string[]): string[];
}

/** Elements of a value of `shape` in one call, as source text. */
const count = (shape: readonly Dim[]) => `${intLiteral(sampleSize(shape))}${shape[0] === BATCH ? ' * batch' : ''}`;
const rowsOf = (rows: Dim) => (rows === BATCH ? 'batch' : intLiteral(rows));

/** One loop's statements; `depth` keeps nested loops' variables apart. */
function loopLines(l: Loop, names: ScheduleNames, depth: number): string[] {
  const [s, t, r] = [`s${depth}`, `t${depth}`, `r${depth}`];
  const T = intLiteral(l.steps);
  const carry = names.ref(l.carry);
  const n = count(l.carry.type.shape);
  const width = intLiteral(sampleSize(l.carry.type.shape.slice(1)));
  const sliceIn = l.sequences.map((q) => {
    const w = intLiteral(q.width);
    return `for (let ${r} = 0; ${r} < ${rowsOf(q.rows)}; ${r}++) ${names.ref(q.slice)}.set(${names.ref(q.source)}.subarray((${r} * ${T} + ${t}) * ${w}, (${r} * ${T} + ${t} + 1) * ${w}), ${r} * ${w});`;
  });
  const result = names.ref(l.result);
  const lines = [
    `// scan: ${intLiteral(l.steps)} steps${l.reverse ? ', reversed' : ''}; the carry starts as the init.`,
    `${carry}.set(${names.ref(l.init)}.subarray(0, ${n}));`,
    `for (let ${s} = 0; ${s} < ${T}; ${s}++) {`,
    `const ${t} = ${l.reverse ? `${intLiteral(l.steps - 1)} - ${s}` : s};`,
    ...sliceIn,
    ...scheduleLines(l.body, names, depth + 1),
    ...(result === carry ? [] : [`${carry}.set(${result}.subarray(0, ${n}));`]),
    ...(l.stack
      ? [`for (let ${r} = 0; ${r} < ${rowsOf(l.carry.type.shape[0])}; ${r}++) ${names.ref(l.node)}.set(${carry}.subarray(${r} * ${width}, (${r} + 1) * ${width}), (${r} * ${T} + ${t}) * ${width});`]
      : []),
    `}`,
  ];
  return names.loop ? names.loop(l, lines) : lines;
}

/** A schedule's statements in order: each kernel's call, each loop's text (`depth`: of nested loops). */
export function scheduleLines(steps: readonly Step[], names: ScheduleNames, depth = 0): string[] {
  return steps.flatMap((st) => (st.kind === 'kernel' ? [names.call(st.kernel)] : loopLines(st.loop, names, depth)));
}
