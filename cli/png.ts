// A PNG of the first test digits with their predicted and true labels, drawn with a 3×5 bitmap font.
import path from 'node:path';
import { PNG } from 'pngjs';
import { ensureFolderSync, writeFileAtomicSync } from '../runtime/atomic-write.ts';

/** Glyphs 3 pixels wide and 5 high: one string per row, '#' for ink. */
const FONT: Readonly<Record<string, readonly string[]>> = {
  '0': ['###', '#.#', '#.#', '#.#', '###'],
  '1': ['.#.', '##.', '.#.', '.#.', '###'],
  '2': ['###', '..#', '###', '#..', '###'],
  '3': ['###', '..#', '.##', '..#', '###'],
  '4': ['#.#', '#.#', '###', '..#', '..#'],
  '5': ['###', '#..', '###', '..#', '###'],
  '6': ['###', '#..', '###', '#.#', '###'],
  '7': ['###', '..#', '.#.', '.#.', '.#.'],
  '8': ['###', '#.#', '###', '#.#', '###'],
  '9': ['###', '#.#', '###', '..#', '###'],
  '/': ['..#', '..#', '.#.', '#..', '#..'],
  '?': ['##.', '..#', '.#.', '...', '.#.'],
  ' ': ['...', '...', '...', '...', '...'],
  P: ['##.', '#.#', '##.', '#..', '#..'],
  R: ['##.', '#.#', '##.', '#.#', '#.#'],
  E: ['###', '#..', '##.', '#..', '###'],
  D: ['##.', '#.#', '#.#', '#.#', '##.'],
  T: ['###', '.#.', '.#.', '.#.', '.#.'],
  U: ['#.#', '#.#', '#.#', '#.#', '###'],
};

type Rgb = readonly [number, number, number];

const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** Each MNIST pixel becomes a SCALE×SCALE block. */
const SCALE = 3;
/** Each font pixel becomes a FONT_SCALE×FONT_SCALE block. */
const FONT_SCALE = 4;
const MARGIN = 8;
const GAP = 8;
const BACKGROUND: Rgb = [24, 24, 28];
const HEADER: Rgb = [200, 200, 200];
const RIGHT: Rgb = [60, 200, 90];
const WRONG: Rgb = [235, 60, 60];

const glyphWidth = 3 * FONT_SCALE;
const glyphHeight = 5 * FONT_SCALE;
const textWidth = (s: string) => s.length * (glyphWidth + FONT_SCALE) - FONT_SCALE;

/** An RGBA canvas with the few drawing operations the picture needs. */
class Canvas {
  readonly png: PNG;
  constructor(width: number, height: number, fill: Rgb) {
    this.png = new PNG({ width, height });
    this.rect(0, 0, width, height, fill);
  }
  set(x: number, y: number, [r, g, b]: Rgb): void {
    const i = (y * this.png.width + x) * 4;
    this.png.data[i] = r;
    this.png.data[i + 1] = g;
    this.png.data[i + 2] = b;
    this.png.data[i + 3] = 255;
  }
  rect(x: number, y: number, w: number, h: number, color: Rgb): void {
    for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) this.set(xx, yy, color);
  }
  text(s: string, x: number, y: number, color: Rgb): void {
    [...s].forEach((ch, k) => {
      const rows = FONT[ch] ?? FONT['?'];
      const left = x + k * (glyphWidth + FONT_SCALE);
      rows.forEach((row, r) => {
        for (let c = 0; c < 3; c++) if (row[c] === '#') this.rect(left + c * FONT_SCALE, y + r * FONT_SCALE, FONT_SCALE, FONT_SCALE, color);
      });
    });
  }
  /** A 28×28 grey image with values in [0, 1], scaled up. */
  digit(pixels: Float32Array, x: number, y: number): void {
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        const v = Math.round(255 * Math.min(1, Math.max(0, pixels[r * SIDE + c])));
        this.rect(x + c * SCALE, y + r * SCALE, SCALE, SCALE, [v, v, v]);
      }
    }
  }
}

/** The PNG bytes of {@link writePredictionsPng}'s picture. */
export function predictionsPng(images: Float32Array, predicted: readonly number[], truth: readonly number[]): Uint8Array {
  const n = Math.min(10, predicted.length, truth.length, Math.floor(images.length / PIXELS));
  const cell = SIDE * SCALE;
  const width = 2 * MARGIN + Math.max(1, n) * cell + Math.max(0, n - 1) * GAP;
  const header = 'PRED/TRUE';
  const top = MARGIN + glyphHeight + GAP;
  const height = top + cell + GAP + glyphHeight + MARGIN;
  const canvas = new Canvas(Math.max(width, 2 * MARGIN + textWidth(header)), height, BACKGROUND);
  canvas.text(header, MARGIN, MARGIN, HEADER);
  for (let i = 0; i < n; i++) {
    const x = MARGIN + i * (cell + GAP);
    canvas.digit(images.subarray(i * PIXELS, (i + 1) * PIXELS), x, top);
    const label = `${predicted[i]}/${truth[i]}`;
    canvas.text(label, x + Math.floor((cell - textWidth(label)) / 2), top + cell + GAP, predicted[i] === truth[i] ? RIGHT : WRONG);
  }
  return PNG.sync.write(canvas.png);
}

/**
 * Writes a PNG of the first ten digits of `images` (n·784 values in [0, 1]) side by side, each
 * labelled `predicted/true` underneath, green when the prediction is right and red when wrong.
 */
export function writePredictionsPng(file: string, images: Float32Array, predicted: readonly number[], truth: readonly number[]): void {
  ensureFolderSync(path.dirname(path.resolve(file)));
  writeFileAtomicSync(file, predictionsPng(images, predicted, truth));
}
