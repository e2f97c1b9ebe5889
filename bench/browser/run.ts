// Kiln against the browser's ML engines, in headless Chromium, on ../shared/PEERS.md's workloads.
//
//   npm run bench:browser                       3 rounds, matmul n = 128…1024
//   npm run bench:browser -- --quick            2 rounds, matmul n = 128, 256, 512, shorter timing
//   … --rounds N  --only mm,cnn (workload ids starting so)  --engines kiln-webgl2,tfjs-webgl,…
//   … --prepare DIR       build the site into DIR and stop (for a machine without the peers)
//   … --prepared DIR      time a site built by --prepare (no compiler or peers needed)
//   … --probe             print the browser, WebGPU adapter and WebGL renderer, and stop
//   KILN_CHROMIUM_FLAGS="--use-angle=vulkan …"   flags added to Chromium's, replacing any of the
//                         same name (on a machine with a GPU: docs/speed.md, "On a real GPU")
//
// Builds the site (bench/browser/site.ts), serves it on 127.0.0.1 with cross-origin isolation and
// runs each engine in a fresh Chromium (--enable-unsafe-webgpu): first once in check mode, where
// its outputs are compared with Kiln's js backend (an engine that disagrees is reported and not
// timed), then once per round, rounds interleaved, engine order rotated. Writes
// bench/results-browser.md (or --out FILE).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium, withFlags } from '../../cli/browser/chromium.ts';
import { writeFileAtomicSync } from '../../runtime/atomic-write.ts';
import { ENGINES, REFERENCE, throughput, workloads as allWorkloads, type Engine, type Workload } from './engines.ts';
import { disagreement, report, type Environment, type Outcome } from './report.ts';
import { serveBenchSite } from './server.ts';
import { buildSite, peerVersion, ROOT, type PreparedSite } from './site.ts';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const quick = argv.includes('--quick');
const rounds = Number(arg('--rounds') ?? (quick ? 2 : 3));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${arg('--rounds')}`);
const preparedDir = arg('--prepared');
const prepared = preparedDir ? (JSON.parse(readFileSync(path.join(preparedDir, 'prepared.json'), 'utf8')) as PreparedSite) : undefined;
const sizes = prepared?.sizes ?? (quick ? [128, 256, 512] : [128, 256, 512, 1024]);
const TOLERANCE = 1e-3;
const PAGE_TIMEOUT_MS = 420_000;

const wanted = arg('--engines')?.split(',');
const unknown = wanted?.filter((id) => !ENGINES.some((e) => e.id === id));
if (unknown?.length) throw new Error(`--engines: unknown ${unknown.join(', ')}; expected some of ${ENGINES.map((e) => e.id).join(', ')}`);
const engines = ENGINES.filter((e) => !wanted || e.id === REFERENCE || wanted.includes(e.id));
const workloads = allWorkloads(sizes).filter((w) => !arg('--only') || arg('--only')!.split(',').some((p) => w.id.startsWith(p)));
if (workloads.length === 0) throw new Error(`--only ${arg('--only')}: no workload id starts so; ids: ${allWorkloads(sizes).map((w) => w.id).join(', ')}`);

const executablePath = findChromium();
if (!executablePath && !arg('--prepare')) {
  console.error('bench:browser needs Chromium (Debian: apt-get install chromium libegl-mesa0 libgl1-mesa-dri libgbm1; or set KILN_CHROMIUM)');
  process.exit(1);
}
const EXTRA_FLAGS = (process.env.KILN_CHROMIUM_FLAGS ?? '').split(/\s+/).filter(Boolean);
const ARGS = withFlags([...CHROMIUM_ARGS, '--enable-unsafe-webgpu'], EXTRA_FLAGS);
const log = (s: string) => console.error(s);

const site = path.resolve(preparedDir ?? arg('--prepare') ?? path.join(ROOT, 'build', 'bench-browser', 'site'));
const data = prepared ?? (await buildSite(site, sizes, log));
if (arg('--prepare')) {
  const versions = Object.fromEntries(ENGINES.flatMap((e) => (e.pkg ? [[e.pkg, peerVersion(e.pkg)]] : [])));
  const spec: PreparedSite = { sizes, tensors: data.tensors, paramKeys: data.paramKeys, versions };
  writeFileAtomicSync(path.join(site, 'prepared.json'), JSON.stringify(spec));
  log(`prepared ${site}`);
  process.exit(0);
}
const version = (pkg: string) => prepared?.versions[pkg] ?? peerVersion(pkg);
const server = await serveBenchSite(site);

interface Cell { check?: number[]; median?: number; unsupported?: string; error?: string }
interface PageResult { engine: Record<string, string>; results: Record<string, Cell> }

/** One engine in a fresh browser: its page checks or times `list`; the result or why it failed. */
async function runEngine(e: Engine, mode: 'check' | 'time', list: Workload[]): Promise<PageResult | string> {
  const name = `spec-${e.id}-${mode}`;
  writeFileAtomicSync(path.join(site, `${name}.json`), JSON.stringify({ mode, quick, workloads: list, tensors: data.tensors, paramKeys: data.paramKeys }));
  let browser: Browser | undefined;
  const pageErrors: string[] = [];
  try {
    browser = await chromium.launch({ executablePath, args: ARGS });
    const page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message.split('\n')[0]));
    await page.goto(`${server.url}${e.page}.html?variant=${e.variant}&spec=${name}`);
    await page.waitForFunction(() => (globalThis as { benchResult?: unknown }).benchResult !== undefined, undefined, { timeout: PAGE_TIMEOUT_MS, polling: 250 });
    return (await page.evaluate(() => (globalThis as { benchResult?: unknown }).benchResult)) as PageResult;
  } catch (err) {
    return `${String((err as Error).message).split('\n')[0]}${pageErrors.length ? ` (page: ${pageErrors[0]})` : ''}`.slice(0, 240);
  } finally {
    await browser?.close();
  }
}

/** The browser's version, WebGPU adapter and WebGL renderer, asked from a served page. */
async function environment(): Promise<Environment> {
  const browser = await chromium.launch({ executablePath, args: ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}probe.html`);
    const probe = await page.evaluate(async () => {
      const nav = navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } };
      const adapter = nav.gpu ? await nav.gpu.requestAdapter() : null;
      const info = adapter?.info;
      const gl = document.createElement('canvas').getContext('webgl2');
      const ext = gl?.getExtension('WEBGL_debug_renderer_info');
      return {
        adapter: info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') : adapter ? 'an adapter without info' : 'none',
        webgl: gl ? String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : 'none',
        isolated: crossOriginIsolated,
      };
    });
    const cpu = /Model name:\s*(.+)/.exec(spawnSync('lscpu', { encoding: 'utf8' }).stdout ?? '')?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
    return { chromium: browser.version(), flags: ARGS.filter((f) => /^--(use-angle|use-gl|enable-features|enable-unsafe)/.test(f)).join(' '), ...probe, cpu: `${cpu}, ${os.cpus().length} logical CPUs`, node: process.version };
  } finally {
    await browser.close();
  }
}

try {
  const env = await environment();
  log(`Chromium ${env.chromium}; WebGPU adapter: ${env.adapter}; WebGL: ${env.webgl}`);
  if (argv.includes('--probe')) process.exit(0);
  const outcomes = new Map<string, Outcome>(engines.map((e) => [e.id, { status: new Map(), agreement: new Map(), times: new Map(), info: {} }]));
  const checks = new Map<string, PageResult | string>();
  for (const e of engines) {
    const s = performance.now();
    checks.set(e.id, await runEngine(e, 'check', workloads));
    log(`check ${e.id}: ${((performance.now() - s) / 1000).toFixed(1)} s`);
  }
  const ref = checks.get(REFERENCE);
  if (ref === undefined || typeof ref === 'string') throw new Error(`Kiln's js backend failed in the page: ${ref}`);
  for (const e of engines) {
    const rep = checks.get(e.id)!;
    const o = outcomes.get(e.id)!;
    if (typeof rep === 'string' || rep.engine.error) {
      for (const w of workloads) o.status.set(w.id, `cannot run: ${typeof rep === 'string' ? rep : rep.engine.error}`);
      continue;
    }
    o.info = { ...rep.engine, ...(e.pkg ? { version: version(e.pkg) } : {}) };
    for (const w of workloads) {
      const c = rep.results[w.id];
      const want = ref.results[w.id]?.check;
      if (!c) o.status.set(w.id, 'no result');
      else if (c.unsupported) o.status.set(w.id, c.unsupported);
      else if (c.error) o.status.set(w.id, `fails: ${c.error}`);
      else if (!want) o.status.set(w.id, 'Kiln has no reference output');
      else {
        const d = disagreement(want, c.check!);
        o.agreement.set(w.id, d);
        if (!(d <= TOLERANCE)) o.status.set(w.id, `disagrees with Kiln (max error ${d.toExponential(1)} of the output's scale)`);
      }
    }
  }
  for (let r = 0; r < rounds; r++) {
    const order = engines.map((_, i) => engines[(i + r) % engines.length]);
    for (const e of order) {
      const o = outcomes.get(e.id)!;
      const list = workloads.filter((w) => !o.status.has(w.id));
      if (list.length === 0) continue;
      const s = performance.now();
      const rep = await runEngine(e, 'time', list);
      log(`round ${r + 1}/${rounds} ${e.id}: ${((performance.now() - s) / 1000).toFixed(1)} s`);
      for (const w of list) {
        const c = typeof rep === 'string' ? undefined : rep.results[w.id];
        if (c?.median) o.times.set(w.id, [...(o.times.get(w.id) ?? []), throughput(w, c.median)]);
        else o.status.set(w.id, `failed while timed: ${typeof rep === 'string' ? rep : (c?.error ?? 'no result')}`);
      }
    }
  }
  const out = path.resolve(arg('--out') ?? path.join(ROOT, 'bench', 'results-browser.md'));
  writeFileAtomicSync(out, report({ argv, rounds, tolerance: TOLERANCE, env, engines, workloads, outcomes }));
  log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  await server.close();
}
