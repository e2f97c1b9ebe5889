// A small WebAssembly binary writer: exactly the instructions Kiln's SIMD kernels use, each
// method named after its text-format mnemonic, so a renderer reads like the WAT it produces.
// Functions are assembled into a module by wasm-module.ts.
import { intLiteral, numberLiteral } from '../literal.ts';
import { internal } from '../../../src/ir/errors.ts';

/** A float in the text format's spelling (`inf`, `-inf`, `nan`), for the listing. */
const watFloat = (v: number) => numberLiteral(v).replace('Infinity', 'inf').replace('NaN', 'nan');

/** Value types of the binary format. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number, out: number[]): void {
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

/** Signed LEB128 (32-bit values). */
function sleb(n: number, out: number[]): void {
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

const SIMD = 0xfd;
/** SIMD opcodes (after the 0xfd prefix), from the WebAssembly 2.0 specification. */
const SIMD_OPS = {
  'v128.load': 0x00,
  'v128.load32_splat': 0x09,
  'v128.store': 0x0b,
  'v128.const': 0x0c,
  'i8x16.shuffle': 0x0d,
  'f32x4.splat': 0x13,
  'f32x4.extract_lane': 0x1f,
  'f32x4.eq': 0x41,
  'f32x4.ne': 0x42,
  'f32x4.lt': 0x43,
  'f32x4.gt': 0x44,
  'f32x4.le': 0x45,
  'f32x4.ge': 0x46,
  'v128.and': 0x4e,
  'v128.or': 0x50,
  'v128.bitselect': 0x52,
  'f32x4.abs': 0xe0,
  'f32x4.neg': 0xe1,
  'f32x4.sqrt': 0xe3,
  'f32x4.add': 0xe4,
  'f32x4.sub': 0xe5,
  'f32x4.mul': 0xe6,
  'f32x4.div': 0xe7,
  'f32x4.min': 0xe8,
  'f32x4.max': 0xe9,
  // Pseudo-min/max (b < a ? b : a, a < b ? b : a): one x86 minps/maxps, no NaN or ±0 fix-up.
  'f32x4.pmin': 0xea,
  'f32x4.pmax': 0xeb,
  // For the vector exp of the row kernels (simd-rows-math.ts): rounding, and building 2ⁿ from n's bits.
  'f32x4.nearest': 0x6a,
  'i32x4.shl': 0xab,
  'i32x4.shr_s': 0xac,
  'i32x4.add': 0xae,
  'i32x4.sub': 0xb1,
  'i32x4.trunc_sat_f32x4_s': 0xf8,
  'f32x4.convert_i32x4_s': 0xfa,
  // Relaxed SIMD (a later proposal): fused or unfused multiply-add, the engine's choice.
  'f32x4.relaxed_madd': 0x105,
} as const;
export type SimdOp = keyof typeof SIMD_OPS;

/** Plain (one-byte) opcodes. */
const OPS = {
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.lt_s': 0x48,
  'i32.gt_s': 0x4a,
  'i32.ge_s': 0x4e,
  'i32.ge_u': 0x4f,
  'i32.eqz': 0x45,
  'i32.or': 0x72,
  // Index arithmetic of the pooling kernels (simd-pool.ts): floor division and modulo by constants, their tests.
  'i32.and': 0x71,
  'i32.eq': 0x46,
  'i32.ne': 0x47,
  'i32.le_s': 0x4c,
  'i32.div_u': 0x6e,
  'i32.rem_u': 0x70,
  'f32.add': 0x92,
  'f32.sub': 0x93,
  'f32.mul': 0x94,
  'f32.div': 0x95,
  'f32.min': 0x96,
  'f32.max': 0x97,
  'f32.neg': 0x8c,
  'f32.abs': 0x8b,
  'f32.sqrt': 0x91,
  'f32.eq': 0x5b,
  'f32.ne': 0x5c,
  'f32.lt': 0x5d,
  'f32.gt': 0x5e,
  'f32.le': 0x5f,
  'f32.ge': 0x60,
  'f32.convert_i32_u': 0xb3,
  select: 0x1b,
} as const;
export type PlainOp = keyof typeof OPS;

const TYPE_NAMES: Record<ValType, string> = { [I32]: 'i32', [F32]: 'f32', [V128]: 'v128' };

/** The body of one function: locals are declared as they are asked for. It keeps a text listing beside the bytes. */
export class FunctionBody {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  private readonly lines: string[] = [];
  private depth = 1;

  /**
   * `emptyRange`: the parameters holding a kernel's row range [lo, hi); the body is then wrapped
   * so that an empty range branches straight to the function's end (kernels' warm-up calls,
   * wasm-module.ts, rely on it: they run nothing and write nothing, yet each costs V8's tier-up
   * budget the whole function's code, as a branch to the end does and an early `return` would not).
   */
  constructor(
    private readonly paramCount: number,
    private readonly emptyRange?: { readonly lo: number; readonly hi: number },
  ) {}

  /** One instruction of the listing (text format, folded one per line). */
  private say(text: string): void {
    this.lines.push(`${'  '.repeat(this.depth)}${text}`);
  }

  /** The function in WebAssembly text format (`paramNames` name its parameters). */
  listing(name: string, paramNames: readonly string[]): string {
    const params = paramNames.map((p) => `(param $${p} i32)`).join(' ');
    const locals = this.locals.map((t) => TYPE_NAMES[t]);
    const r = this.emptyRange;
    const body = r ? ['  block ;; an empty row range [lo, hi) skips everything', `    local.get ${r.hi}`, `    local.get ${r.lo}`, '    i32.le_s', '    br_if 0', ...this.lines.map((l) => `  ${l}`), '  end'] : this.lines;
    return [`(func $${name} ${params}`, ...(locals.length ? [`  (local ${locals.join(' ')})`] : []), ...body, ')'].join('\n');
  }

  /** A new local of type `t`; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.paramCount + this.locals.length - 1;
  }

  op(name: PlainOp): this {
    this.say(name);
    this.code.push(OPS[name]);
    return this;
  }

  simd(name: SimdOp): this {
    if (name !== 'v128.load' && name !== 'v128.load32_splat' && name !== 'v128.store' && name !== 'v128.const' && name !== 'i8x16.shuffle' && name !== 'f32x4.extract_lane') this.say(name);
    this.code.push(SIMD);
    uleb(SIMD_OPS[name], this.code);
    return this;
  }

  get(i: number): this {
    this.say(`local.get ${i}`);
    this.code.push(0x20);
    uleb(i, this.code);
    return this;
  }

  set(i: number): this {
    this.say(`local.set ${i}`);
    this.code.push(0x21);
    uleb(i, this.code);
    return this;
  }

  tee(i: number): this {
    this.say(`local.tee ${i}`);
    this.code.push(0x22);
    uleb(i, this.code);
    return this;
  }

  i32(value: number): this {
    // sleb() would silently wrap anything outside int32 into another, wrong, constant.
    if (!Number.isInteger(value) || value < -(2 ** 31) || value > 2 ** 32 - 1) internal(`wasm: i32 constant ${String(value).slice(0, 40)} is not a 32-bit integer`);
    this.say(`i32.const ${intLiteral(value)}`);
    this.code.push(0x41);
    sleb(value, this.code);
    return this;
  }

  f32(value: number): this {
    this.say(`f32.const ${watFloat(value)}`);
    this.code.push(0x43);
    append(this.code, [...new Uint8Array(new Float32Array([value]).buffer)]);
    return this;
  }

  /** A memory access with a constant byte offset (`align` as log2 of the natural alignment). */
  private memarg(align: number, offset: number): this {
    if (offset < 0 || !Number.isInteger(offset)) throw new Error(`wasm: memory offset ${offset} must be a non-negative integer`);
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }

  f32Load(offset: number): this {
    this.say(`f32.load offset=${intLiteral(offset)}`);
    this.code.push(0x2a);
    return this.memarg(2, offset);
  }

  f32Store(offset: number): this {
    this.say(`f32.store offset=${intLiteral(offset)}`);
    this.code.push(0x38);
    return this.memarg(2, offset);
  }

  /** `v128.load`, `v128.load32_splat` or `v128.store` at a constant offset. */
  vmem(name: 'v128.load' | 'v128.load32_splat' | 'v128.store', offset: number): this {
    this.say(`${name} offset=${intLiteral(offset)}`);
    this.simd(name);
    return this.memarg(name === 'v128.load32_splat' ? 2 : 4, offset);
  }

  v128Const(bytes: Uint8Array): this {
    this.say(`v128.const i32x4 ${Array.from(new Int32Array(bytes.buffer, bytes.byteOffset, 4)).join(' ')}`);
    this.simd('v128.const');
    append(this.code, [...bytes]);
    return this;
  }

  /** `i8x16.shuffle`: 16 byte lanes picked from the two vectors on the stack (0–15 the first, 16–31 the second). */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) internal(`wasm: i8x16.shuffle needs 16 lanes in 0..31 (got ${lanes.join(' ')})`);
    this.say(`i8x16.shuffle ${lanes.join(' ')}`);
    this.simd('i8x16.shuffle');
    append(this.code, lanes);
    return this;
  }

  extractLane(lane: number): this {
    this.say(`f32x4.extract_lane ${lane}`);
    this.simd('f32x4.extract_lane');
    this.code.push(lane);
    return this;
  }

  /** `block` / `loop` with no result, and their `end`. */
  block(): this {
    this.say('block');
    this.depth++;
    this.code.push(0x02, 0x40);
    return this;
  }

  loop(): this {
    this.say('loop');
    this.depth++;
    this.code.push(0x03, 0x40);
    return this;
  }

  end(): this {
    this.depth--;
    this.say('end');
    this.code.push(0x0b);
    return this;
  }

  /** `if` with no result (it pops the condition), `else`; closed by `end`. */
  if(): this {
    this.say('if');
    this.depth++;
    this.code.push(0x04, 0x40);
    return this;
  }

  else(): this {
    this.depth--;
    this.say('else');
    this.depth++;
    this.code.push(0x05);
    return this;
  }

  /** `global.get` of imported global `i` (the scratch address is global 0). */
  globalGet(i: number): this {
    this.say(`global.get ${i}`);
    this.code.push(0x23);
    uleb(i, this.code);
    return this;
  }

  /**
   * `while (local i < bound) body()`: `bound` pushes the bound; the body advances i itself. The
   * comparison is unsigned: i is a count or a byte address, and a pointer loop's end may lie just
   * past 2 GiB (the memory's maximum) where a signed one would wrap negative.
   */
  whileLess(i: number, bound: () => void, body: () => void): this {
    this.block().loop().get(i);
    bound();
    this.op('i32.ge_u').brIf(1);
    body();
    return this.br(0).end().end();
  }

  /**
   * `steps` steps of a reduction (`steps` pushes the count): `body()`, then each pointer advanced by
   * its byte stride. The loop runs on a pointer that moves forward, against its end: no step
   * counter, one instruction less a step, about 5 % of a 4 × 8 SIMD tile's time (its inner loop
   * issues 27 instructions a step on x64 without FMA and is bound by issuing them). Where no
   * pointer moves forward, the steps are counted. The body must not read the reduction variable.
   */
  stepLoop(pointers: readonly { local: number; stride: number }[], steps: () => void, body: () => void): this {
    const advance = () => {
      for (const p of pointers) if (p.stride) this.get(p.local).i32(p.stride).op('i32.add').set(p.local);
    };
    const end = this.local(I32);
    const lead = pointers.find((p) => p.stride > 0);
    if (!lead) {
      const n = this.local(I32);
      steps();
      this.set(end).i32(0).set(n);
      return this.whileLess(n, () => this.get(end), () => {
        body();
        advance();
        this.get(n).i32(1).op('i32.add').set(n);
      });
    }
    this.get(lead.local);
    steps();
    this.i32(lead.stride).op('i32.mul').op('i32.add').set(end);
    return this.whileLess(lead.local, () => this.get(end), () => {
      body();
      advance();
    });
  }

  /** `memory.copy` (bulk memory): [dst, src, bytes] → []; overlapping ranges copy as memmove does. */
  memoryCopy(): this {
    this.say('memory.copy');
    this.code.push(0xfc, 0x0a, 0x00, 0x00);
    return this;
  }

  /** `memory.fill` (bulk memory): [dst, byte, bytes] → []. */
  memoryFill(): this {
    this.say('memory.fill');
    this.code.push(0xfc, 0x0b, 0x00);
    return this;
  }

  /** `call` of function `index` of the module (its arguments pushed before). */
  call(index: number): this {
    this.say(`call ${index}`);
    this.code.push(0x10);
    uleb(index, this.code);
    return this;
  }

  /** Untyped `select`: picks one of two values of the same numeric type (v128 included) by an i32. */
  select(): this {
    return this.op('select');
  }

  brIf(depth: number): this {
    this.say(`br_if ${depth}`);
    this.code.push(0x0d);
    uleb(depth, this.code);
    return this;
  }

  br(depth: number): this {
    this.say(`br ${depth}`);
    this.code.push(0x0c);
    uleb(depth, this.code);
    return this;
  }

  /** The function's entry in the code section: its locals, instructions and final `end`. */
  encode(): number[] {
    const out: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(groups.length, out);
    for (const [count, t] of groups) {
      uleb(count, out);
      out.push(t);
    }
    const r = this.emptyRange;
    // block; local.get hi; local.get lo; i32.le_s; br_if 0; … end
    if (r) out.push(0x02, 0x40, 0x20, ...ulebBytes(r.hi), 0x20, ...ulebBytes(r.lo), OPS['i32.le_s'], 0x0d, 0x00);
    append(out, this.code);
    if (r) out.push(0x0b);
    out.push(0x0b);
    const sized: number[] = [];
    uleb(out.length, sized);
    append(sized, out);
    return sized;
  }
}

function ulebBytes(n: number): number[] {
  const out: number[] = [];
  uleb(n, out);
  return out;
}

/** Appends without spreading (a large module's code would overflow the call stack). */
export function append(out: number[], bytes: readonly number[]) {
  for (const b of bytes) out.push(b);
}
