// Sequence tasks generated in code for the recurrent examples and their tests: the adding problem
// (Hochreiter & Schmidhuber 1997) and reversing a string of symbols. Seeded, so runs repeat.

/** A split of generated data: `count` samples, x and y flattened sample after sample. */
export interface Split<X extends Float32Array | Int32Array = Float32Array, Y extends Float32Array | Int32Array = Float32Array | Int32Array> {
  x: X;
  y: Y;
  count: number;
}

/** Mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * The adding problem: each step holds [value, marker] with values uniform in [0, 1) and exactly
 * two markers, one in each half of the sequence; the target is the sum of the two marked values.
 * x is [count, steps, 2], y is [count, 1]. Always answering 1 scores an MSE of 1/6 ≈ 0.167.
 */
export function addingProblem(count: number, steps: number, seed: number): Split<Float32Array, Float32Array> {
  const rand = random(seed);
  const x = new Float32Array(count * steps * 2);
  const y = new Float32Array(count);
  const half = Math.floor(steps / 2);
  for (let n = 0; n < count; n++) {
    const a = Math.floor(rand() * half);
    const b = half + Math.floor(rand() * (steps - half));
    for (let t = 0; t < steps; t++) {
      const v = rand();
      x[(n * steps + t) * 2] = v;
      if (t === a || t === b) {
        x[(n * steps + t) * 2 + 1] = 1;
        y[n] += v;
      }
    }
  }
  return { x, y, count };
}

/**
 * Reversal: `length` symbols drawn from `symbols`, one-hot ([count, length, symbols]); the label
 * of position t is the symbol at position length − 1 − t ([count, length], int32).
 */
export function reversal(count: number, length: number, symbols: number, seed: number): Split<Float32Array, Int32Array> {
  const rand = random(seed);
  const x = new Float32Array(count * length * symbols);
  const y = new Int32Array(count * length);
  for (let n = 0; n < count; n++) {
    const s = Array.from({ length }, () => Math.floor(rand() * symbols));
    s.forEach((k, t) => {
      x[(n * length + t) * symbols + k] = 1;
      y[n * length + (length - 1 - t)] = k;
    });
  }
  return { x, y, count };
}
