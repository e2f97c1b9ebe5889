// Start-up: fromBase64, which decodes a module's WebAssembly kernels as it is imported, uses the
// engine's native decoder when there is one (Uint8Array.fromBase64, else Node's Buffer) and
// decodes the same bytes as the browser fallback (atob).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromBase64 } from '../../runtime/model-io.ts';
import { Rng } from '../../runtime/rng.ts';

/** Bytes 0..255 then random ones: every byte value, and lengths of each remainder mod 3. */
function sample(length: number): Uint8Array {
  const rng = new Rng(7);
  return Uint8Array.from({ length }, (_, i) => (i < 256 ? i : Math.floor(rng.uniform() * 256)));
}
/** Base64 written independently of the code under test (Node's encoder). */
const encode = (b: Uint8Array) => Buffer.from(b).toString('base64');
const LENGTHS = [0, 1, 2, 3, 255, 256, 257, 5000, 100_001];

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  delete (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64;
});

describe('fromBase64', () => {
  it('decodes with Node’s Buffer into a Uint8Array of its own (not a slice of the shared pool)', () => {
    const from = vi.spyOn(Buffer, 'from');
    for (const n of LENGTHS) {
      const bytes = sample(n);
      const text = encode(bytes);
      from.mockClear();
      const out = fromBase64(text);
      expect(from).toHaveBeenCalledWith(text, 'base64');
      expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
      expect(out).toEqual(bytes);
      expect(out.byteOffset).toBe(0);
      expect(out.buffer.byteLength).toBe(n);
    }
  });

  it('uses Uint8Array.fromBase64 where the engine has it', () => {
    const bytes = sample(300);
    const native = vi.fn((text: string) => new Uint8Array(Buffer.from(text, 'base64')));
    (Uint8Array as unknown as { fromBase64: unknown }).fromBase64 = native;
    expect(fromBase64(encode(bytes))).toEqual(bytes);
    expect(native).toHaveBeenCalledTimes(1);
  });

  it('decodes the same bytes without Buffer (a browser: atob)', () => {
    const texts = LENGTHS.map((n) => encode(sample(n)));
    vi.stubGlobal('Buffer', undefined);
    LENGTHS.forEach((n, i) => expect(fromBase64(texts[i])).toEqual(sample(n)));
  });
});
