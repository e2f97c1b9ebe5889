// The browser benchmark's report (bench/results-browser.md): the machine, browser and adapter,
// then per workload every engine's throughput, min–max over rounds, Kiln's ratios and agreement.
import type { Engine, Workload } from './engines.ts';
import { KILN, REFERENCE } from './engines.ts';

export interface Environment { chromium: string; flags: string; adapter: string; webgl: string; isolated: boolean; cpu: string; node: string }
export interface Outcome {
  /** Workload → why it was not timed (unsupported, failed, disagreed). */
  status: Map<string, string>;
  /** Workload → max |difference| from Kiln's js backend over the largest |value|. */
  agreement: Map<string, number>;
  /** Workload → throughput per round. */
  times: Map<string, number[]>;
  info: Record<string, string>;
}

/** max |a − b| / max |ref|, over the compared values (bench/run.ts's measure). */
export function disagreement(ref: readonly number[], got: readonly number[]): number {
  if (ref.length !== got.length) return Infinity;
  let scale = 1e-6, err = 0;
  for (let i = 0; i < ref.length; i++) { scale = Math.max(scale, Math.abs(ref[i])); err = Math.max(err, Math.abs(ref[i] - got[i])); }
  return Number.isNaN(err) ? Infinity : err / scale;
}

export function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const fmt = (v: number) => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));
const KILN_COLUMN: Record<string, string> = { 'kiln-wasm': 'Kiln wasm ÷', 'kiln-webgl2': 'Kiln WebGL2 ÷', 'kiln-webgpu': 'Kiln WebGPU ÷' };

interface ReportInput { argv: string[]; rounds: number; tolerance: number; env: Environment; engines: readonly Engine[]; workloads: readonly Workload[]; outcomes: Map<string, Outcome> }

/** The median over rounds of an engine's timed workload, or undefined where it was not timed. */
function medianOf(o: Outcome | undefined, w: Workload): number | undefined {
  const v = o?.times.get(w.id);
  return v && v.length && !o!.status.has(w.id) ? median(v) : undefined;
}

function table(r: ReportInput, w: Workload): string[] {
  const kilns = KILN.filter((k) => r.engines.some((e) => e.id === k));
  const lines = [`## ${w.title} (${w.unit})`, ''];
  lines.push(`| engine | median | min–max | ${kilns.map((k) => KILN_COLUMN[k]).join(' | ')} | agreement with Kiln |`);
  lines.push(`|---|---:|---:|${kilns.map(() => '---:|').join('')}---|`);
  for (const e of r.engines) {
    const o = r.outcomes.get(e.id)!;
    const version = o.info.version ? ` ${o.info.version}` : '';
    const name = `${e.label}${version}`;
    const v = medianOf(o, w);
    if (v === undefined) { lines.push(`| ${name} | — | — | ${kilns.map(() => '—').join(' | ')} | ${o.status.get(w.id) ?? 'not timed'} |`); continue; }
    const all = o.times.get(w.id)!;
    const ratios = kilns.map((k) => { const kv = medianOf(r.outcomes.get(k), w); return k === e.id || kv === undefined ? '' : `${(kv / v).toFixed(2)}×`; });
    const ag = o.agreement.get(w.id);
    const agText = e.id === REFERENCE ? 'reference' : ag === undefined ? '' : ag.toExponential(1);
    lines.push(`| ${name} | ${fmt(v)} | ${fmt(Math.min(...all))}–${fmt(Math.max(...all))} | ${ratios.join(' | ')} | ${agText} |`);
  }
  lines.push('');
  return lines;
}

/** How the run was started: through npm here, or as the driver bundled for another machine. */
function commandLine(argv: readonly string[]): string {
  if (argv.includes('--prepared')) return `\`node run.mjs ${argv.join(' ')}\` (bench/browser/run.ts as bench/browser/gpu/pack.sh bundles it)`;
  return `\`npm run bench:browser${argv.length ? ` -- ${argv.join(' ')}` : ''}\``;
}

/** The whole report as Markdown. */
export function report(r: ReportInput): string {
  const backends = r.engines.map((e) => { const o = r.outcomes.get(e.id)!; return `${e.id}: ${o.info.backend || o.status.values().next().value || '?'}`; });
  const lines = [
    '# Kiln against the browser ML engines (headless Chromium)', '',
    `- Command: ${commandLine(r.argv)}`,
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${r.env.cpu}; driver on Node ${r.env.node}`,
    `- Browser: headless Chromium ${r.env.chromium} (\`${r.env.flags}\`), page served from 127.0.0.1 with cross-origin isolation (${r.env.isolated ? 'on' : 'OFF'}), no network.`,
    `- WebGPU adapter: ${r.env.adapter}. WebGL2 renderer: ${r.env.webgl}.`,
    /swiftshader|llvmpipe/i.test(`${r.env.adapter} ${r.env.webgl}`)
      ? '- **No GPU here**: WebGPU runs on SwiftShader (software Vulkan) and WebGL2 on llvmpipe (software OpenGL), both on the same CPU cores as the WebAssembly engines. These numbers say how the engines fare on a CPU emulating a GPU, and little about a real GPU: run the same command on a machine with one and record it.'
      : '- A hardware GPU: see the adapter above.',
    `- Backends each engine really ran on (asserted in the page): ${backends.join('; ')}.`,
    `- ${r.rounds} interleaved round${r.rounds === 1 ? '' : 's'} (engine order rotated each round), each engine in a fresh browser per round; per round the median of several timed samples after warm-up; every call takes its inputs (matmul factors, the batch, training labels) from JavaScript arrays and reads its results back to JavaScript (asynchronously where the engine offers it), while weights stay on the engine's device. Cells: median over rounds (min–max). Ratios = Kiln's throughput on that backend ÷ the engine's (> 1: Kiln faster).`,
    `- Same seeded Glorot-uniform weights and inputs in every engine (bench/run.ts's generator); before timing, each engine's outputs (inference outputs, matmul products, the losses of three consecutive training steps) are compared with Kiln's js backend: max |difference| ≤ ${r.tolerance} × the largest |value| or the workload is not timed for that engine.`,
    '- Threads: Kiln runs on the page\'s one thread; onnxruntime-web and tfjs-backend-wasm are told to use one thread too. jax-js\'s wasm device has no such setting: in an isolated page it runs its kernels on a pool of `navigator.hardwareConcurrency` workers (all the machine\'s logical CPUs).',
    '',
  ];
  for (const w of r.workloads) lines.push(...table(r, w));
  return lines.join('\n');
}
