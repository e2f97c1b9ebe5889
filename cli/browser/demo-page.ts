// The browser demo's page script: trains the compiled MNIST CNN on WebGPU where the browser offers
// it (WebGL2 otherwise) with a live loss curve, reports test accuracy, then classifies digits drawn
// on a canvas. Everything goes through the asynchronous API, so the page never waits on the GPU. Bundled by `cli/demo-browser.ts`,
// which maps `kiln-demo-model` to the module `kiln compile --backend gpujs --train` wrote.
import { backend as compiledBackend, createTrainer } from 'kiln-demo-model';

const PIXELS = 784;
const params = new URLSearchParams(location.search);
const STEPS = Number(params.get('steps') ?? 300);
const BATCH = Number(params.get('batch') ?? 64);
/** 'async': WebGPU when an adapter answers, else GPU.js's best synchronous backend (WebGL2). */
const MODE = params.get('mode') ?? 'async';

/** What the page exposes for the browser test (and for the curious, in the console). */
const state = {
  backend: '',
  losses: [] as number[],
  accuracy: NaN,
  stepsPerSecond: NaN,
  /** The longest gap between animation frames while training (ms): the page must not freeze. */
  longestFrameGapMs: 0,
  /** Animation frames drawn while training. */
  frames: 0,
  done: false,
  error: '',
  prediction: null as null | { digit: number; probabilities: number[] },
};
(globalThis as unknown as { demo: typeof state }).demo = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function status(text: string) {
  $('status').textContent = text;
}

async function loadImages(file: string): Promise<{ x: Float32Array; y: Int32Array; count: number }> {
  const bytes = new Uint8Array(await (await fetch(file)).arrayBuffer());
  const count = bytes.length / (PIXELS + 1);
  const x = Float32Array.from(bytes.subarray(0, count * PIXELS), (v) => v / 255);
  return { x, y: Int32Array.from(bytes.subarray(count * PIXELS)), count };
}

function drawCurve(losses: readonly number[]) {
  const canvas = $<HTMLCanvasElement>('curve');
  const g = canvas.getContext('2d')!;
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.strokeStyle = '#ccc';
  g.strokeRect(0.5, 0.5, canvas.width - 1, canvas.height - 1);
  if (losses.length < 2) return;
  const top = Math.max(...losses);
  g.strokeStyle = '#c0392b';
  g.beginPath();
  losses.forEach((l, i) => {
    const px = (i / (STEPS - 1)) * (canvas.width - 10) + 5;
    const py = canvas.height - 5 - (l / top) * (canvas.height - 10);
    if (i === 0) g.moveTo(px, py);
    else g.lineTo(px, py);
  });
  g.stroke();
  g.fillStyle = '#333';
  g.fillText(`loss ${losses[losses.length - 1].toFixed(3)} (step ${losses.length})`, 8, 14);
}

type Trainer = ReturnType<typeof createTrainer>;

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Counts animation frames and the longest gap between two, until `stop()`. */
function watchFrames(): { stop(): void } {
  let last = performance.now();
  let running = true;
  const tick = (now: number) => {
    state.longestFrameGapMs = Math.max(state.longestFrameGapMs, now - last);
    state.frames++;
    last = now;
    if (running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return { stop: () => void (running = false) };
}

/**
 * Trains with stepAsync: on WebGPU each step awaits its loss (mapAsync), which hands the page its
 * turn; on a synchronous backend the steps run in slices of 50 ms between which the page draws.
 */
async function train(trainer: Trainer, data: { x: Float32Array; y: Int32Array; count: number }): Promise<void> {
  const batches = Math.floor(data.count / BATCH);
  const started = performance.now();
  const frames = watchFrames();
  try {
    let slice = performance.now();
    while (state.losses.length < STEPS) {
      const b = state.losses.length % batches;
      const x = data.x.subarray(b * BATCH * PIXELS, (b + 1) * BATCH * PIXELS);
      state.losses.push(await trainer.stepAsync(x, data.y.subarray(b * BATCH, (b + 1) * BATCH), BATCH));
      if (performance.now() - slice > 50) {
        drawCurve(state.losses);
        status(`training on ${state.backend}: step ${state.losses.length}/${STEPS}`);
        await nextTask();
        slice = performance.now();
      }
    }
    drawCurve(state.losses);
  } finally {
    frames.stop();
  }
  state.stepsPerSecond = STEPS / ((performance.now() - started) / 1000);
}

/** Test accuracy from predictAsync in batches (evaluate is synchronous, which WebGPU is not). */
async function testAccuracy(trainer: Trainer, data: { x: Float32Array; y: Int32Array; count: number }, batch = 250): Promise<number> {
  let correct = 0;
  for (let start = 0; start < data.count; start += batch) {
    const n = Math.min(batch, data.count - start);
    const p = await trainer.predictAsync(data.x.subarray(start * PIXELS, (start + n) * PIXELS), n);
    for (let i = 0; i < n; i++) {
      const row = p.subarray(i * 10, i * 10 + 10) as ArrayLike<number>;
      let best = 0;
      for (let c = 1; c < 10; c++) if (row[c] > row[best]) best = c;
      if (best === data.y[start + i]) correct++;
    }
  }
  return correct / data.count;
}

/** The drawing as an MNIST-style input: the ink's bounding box scaled into 20×20, centred in 28×28. */
function drawingAsInput(canvas: HTMLCanvasElement): Float32Array | null {
  const g = canvas.getContext('2d')!;
  const { data, width, height } = g.getImageData(0, 0, canvas.width, canvas.height);
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4 + 3] > 0) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  if (x1 < 0) return null;
  const side = Math.max(x1 - x0, y1 - y0) + 1;
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const s = small.getContext('2d')!;
  const scale = 20 / side;
  s.drawImage(canvas, x0, y0, x1 - x0 + 1, y1 - y0 + 1, 14 - ((x1 - x0 + 1) * scale) / 2, 14 - ((y1 - y0 + 1) * scale) / 2, (x1 - x0 + 1) * scale, (y1 - y0 + 1) * scale);
  const pixels = s.getImageData(0, 0, 28, 28).data;
  return Float32Array.from({ length: PIXELS }, (_, i) => pixels[i * 4 + 3] / 255);
}

function setUpDrawing(trainer: Trainer) {
  const canvas = $<HTMLCanvasElement>('pad');
  const g = canvas.getContext('2d')!;
  g.lineWidth = 18;
  g.lineCap = g.lineJoin = 'round';
  let drawing = false;
  const at = (e: PointerEvent) => [e.offsetX, e.offsetY] as const;
  canvas.addEventListener('pointerdown', (e) => {
    drawing = true;
    g.beginPath();
    g.moveTo(...at(e));
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    g.lineTo(...at(e));
    g.stroke();
  });
  const finish = async () => {
    if (!drawing) return;
    drawing = false;
    const x = drawingAsInput(canvas);
    if (!x) return;
    const probabilities = Array.from((await trainer.predictAsync(x, 1)) as Float32Array);
    const digit = probabilities.indexOf(Math.max(...probabilities));
    state.prediction = { digit, probabilities };
    $('prediction').textContent = `${digit}  (${(100 * probabilities[digit]).toFixed(1)} %)`;
  };
  const report = () => void finish().catch((e: Error) => (state.error = e.message));
  canvas.addEventListener('pointerup', report);
  canvas.addEventListener('pointerleave', report);
  $('clear').addEventListener('click', () => {
    g.clearRect(0, 0, canvas.width, canvas.height);
    $('prediction').textContent = '–';
  });
}

async function main() {
  status('loading MNIST…');
  const [trainData, testData] = await Promise.all([loadImages('mnist-train.bin'), loadImages('mnist-test.bin')]);
  const trainer = createTrainer({ mode: MODE as 'async', seed: 0 });
  state.backend = await trainer.ready();
  $('backend').textContent = `${compiledBackend} module on GPU.js ${state.backend}`;
  await train(trainer, trainData);
  state.accuracy = await testAccuracy(trainer, testData);
  status(`trained ${STEPS} steps on ${state.backend} (${state.stepsPerSecond.toFixed(1)} steps/s); test accuracy ${(100 * state.accuracy).toFixed(2)} % on ${testData.count} images. Draw a digit:`);
  setUpDrawing(trainer);
  state.done = true;
}

main().catch((e: Error) => {
  state.error = e.message;
  status(`error: ${e.message}`);
});
