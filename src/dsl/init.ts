// Default initialisers: Keras's (Glorot-uniform kernels, zero biases) or PyTorch's (Kaiming-uniform, a = √5).
import type { InitSpec } from '../../runtime/init.ts';

export type InitStyle = 'keras' | 'pytorch';

/** A user's choice for one parameter: a named scheme or a full spec. */
export type InitChoice = InitSpec | 'zeros' | 'ones' | 'glorotUniform' | 'glorotNormal' | 'xavierUniform' | 'xavierNormal' | 'heUniform' | 'heNormal' | 'lecunUniform' | 'lecunNormal' | 'kaimingUniform' | 'orthogonal';

let style: InitStyle = 'keras';

/** Sets the default initialisers of the layers created after it (a model file calls it first). */
export function defaultInit(next: InitStyle): void {
  style = next;
}

/** The default initialiser style in force (layers whose defaults differ by style read it). */
export function initStyle(): InitStyle {
  return style;
}

/** Runs `f` with a default initialiser style, restoring the previous one after. */
export function withInitStyle<T>(next: InitStyle | undefined, f: () => T): T {
  if (!next) return f();
  const outer = style;
  style = next;
  try {
    return f();
  } finally {
    style = outer;
  }
}

/** The initialiser of a weight (kernel/filter) with the given fans. */
export function weightInit(choice: InitChoice | undefined, fanIn: number, fanOut: number): InitSpec {
  if (choice !== undefined) return resolve(choice, fanIn, fanOut);
  return style === 'pytorch' ? { kind: 'kaimingUniform', fanIn, a: Math.sqrt(5) } : { kind: 'glorotUniform', fanIn, fanOut };
}

/** The initialiser of a bias: zeros (Keras) or U(±1/√fanIn) (PyTorch). */
export function biasInit(choice: InitChoice | undefined, fanIn: number): InitSpec {
  if (choice !== undefined) return resolve(choice, fanIn, 1);
  if (style === 'pytorch') {
    const bound = 1 / Math.sqrt(fanIn);
    return { kind: 'uniform', low: -bound, high: bound };
  }
  return { kind: 'zeros' };
}

function resolve(choice: InitChoice, fanIn: number, fanOut: number): InitSpec {
  if (typeof choice !== 'string') return choice;
  switch (choice) {
    case 'zeros':
    case 'ones':
      return { kind: choice };
    case 'kaimingUniform':
      return { kind: 'kaimingUniform', fanIn, a: Math.sqrt(5) };
    case 'xavierUniform':
      return { kind: 'glorotUniform', fanIn, fanOut };
    case 'xavierNormal':
      return { kind: 'glorotNormal', fanIn, fanOut };
    // A weight [fanIn, fanOut] as a matrix, as Keras's Orthogonal sees a kernel (conv kernels need a full spec).
    case 'orthogonal':
      return { kind: 'orthogonal', rows: fanIn, cols: fanOut };
    default:
      return { kind: choice, fanIn, fanOut };
  }
}
