// The ALU ops in WebAssembly: one entry per op of the kernel language, the instruction (4-lane
// and scalar) that computes it with the meaning of src/ir/expr.ts, or the reason there is none.
import type { BinaryOp, UnaryOp } from '../../../src/ir/expr.ts';
import type { PlainOp, SimdOp } from './binary.ts';

/** An op WebAssembly cannot compute here, and why: a kernel using it keeps its epilogue in JavaScript. */
export interface Unsupported {
  readonly unsupported: string;
}

export const unsupported = (reason: string): Unsupported => ({ unsupported: reason });

/** The instruction on 4 float32 lanes and on one float32. */
export interface WasmAlu {
  readonly vec: SimdOp;
  readonly scalar: PlainOp;
}

const TRANSCENDENTAL = 'WebAssembly has no instruction for it (transcendental)';
const NOT_ENCODED = 'no epilogue needs it yet: binary.ts does not encode the instructions it would take';

/** Each unary op; NaN and ±0 behave as in the interpreter (IEEE negation, absolute value, sqrt). */
export const WASM_UNARY: { readonly [K in UnaryOp]: WasmAlu | Unsupported } = {
  neg: { vec: 'f32x4.neg', scalar: 'f32.neg' },
  abs: { vec: 'f32x4.abs', scalar: 'f32.abs' },
  sqrt: { vec: 'f32x4.sqrt', scalar: 'f32.sqrt' },
  exp: unsupported(TRANSCENDENTAL),
  log: unsupported(TRANSCENDENTAL),
  tanh: unsupported(TRANSCENDENTAL),
  erf: unsupported(TRANSCENDENTAL),
  sigmoid: unsupported(TRANSCENDENTAL),
  log1p: unsupported(TRANSCENDENTAL),
  expm1: unsupported(TRANSCENDENTAL),
  floor: unsupported(`${NOT_ENCODED} (f32x4.floor)`),
  sign: unsupported(`${NOT_ENCODED} (two comparisons and a select)`),
};

/**
 * Each binary op. min and max give NaN when either operand is NaN (the spec's fmin/fmax), as the
 * interpreter; comparisons are false with a NaN operand except ne, and the renderer turns their
 * lane masks into 1 or 0.
 */
export const WASM_BINARY: { readonly [K in BinaryOp]: WasmAlu | Unsupported } = {
  add: { vec: 'f32x4.add', scalar: 'f32.add' },
  sub: { vec: 'f32x4.sub', scalar: 'f32.sub' },
  mul: { vec: 'f32x4.mul', scalar: 'f32.mul' },
  div: { vec: 'f32x4.div', scalar: 'f32.div' },
  max: { vec: 'f32x4.max', scalar: 'f32.max' },
  min: { vec: 'f32x4.min', scalar: 'f32.min' },
  lt: { vec: 'f32x4.lt', scalar: 'f32.lt' },
  le: { vec: 'f32x4.le', scalar: 'f32.le' },
  gt: { vec: 'f32x4.gt', scalar: 'f32.gt' },
  ge: { vec: 'f32x4.ge', scalar: 'f32.ge' },
  eq: { vec: 'f32x4.eq', scalar: 'f32.eq' },
  ne: { vec: 'f32x4.ne', scalar: 'f32.ne' },
  pow: unsupported(TRANSCENDENTAL),
  idiv: unsupported(`${NOT_ENCODED} (floor division: f32x4.floor); index arithmetic is the loops' own`),
  mod: unsupported(`${NOT_ENCODED} (floor modulo: f32x4.floor); index arithmetic is the loops' own`),
  and: unsupported(`${NOT_ENCODED} (logic on 1/0 values)`),
  or: unsupported(`${NOT_ENCODED} (logic on 1/0 values)`),
  hashUniform: unsupported('the hash needs the 32-bit integer multiplies of runtime/math.ts'),
};

const supported = (entry: WasmAlu | Unsupported): WasmAlu | null => ('vec' in entry ? entry : null);

/** The instructions for a unary op, or null where WebAssembly lacks it. */
export const unaryAlu = (op: UnaryOp): WasmAlu | null => supported(WASM_UNARY[op]);

/** The instructions for a binary op, or null where WebAssembly lacks it. */
export const binaryAlu = (op: BinaryOp): WasmAlu | null => supported(WASM_BINARY[op]);
