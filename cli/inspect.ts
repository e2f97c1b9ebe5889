// `kiln inspect`: a model (or an emitted module's manifest) as text, JSON, DOT or Mermaid; the
// formats are one table, `renderers`, so the HTML report plugs in as one more entry.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildGraphDoc, type GraphDoc } from '../compiler/inspect/graph-doc.ts';
import { renderDot } from '../compiler/inspect/render-dot.ts';
import { renderMermaid } from '../compiler/inspect/render-mermaid.ts';
import { renderText } from '../compiler/inspect/render-text.ts';
import { manifestFromText } from '../compiler/inspect/manifest-text.ts';
import { MANIFEST_FORMAT, type ModuleManifest } from '../compiler/emit/manifest.ts';
import { writeFileAtomicSync } from '../runtime/atomic-write.ts';
import { KilnError } from '../src/ir/errors.ts';
import { sanitizeLine } from '../src/ir/print.ts';
import { formatProfile, type ProfileReport } from '../compiler/inspect/profile.ts';
import { loadModel } from './load.ts';
import { profileModel } from './profile.ts';
import { renderReport } from './report/html.ts';
import { resolveLoss, resolveOptimizer } from './training-spec.ts';

export interface InspectOptions {
  format?: string;
  after?: string;
  train?: boolean;
  optimizer?: string;
  loss?: string;
  batch?: number;
  sources?: boolean;
  out?: string;
  /** Also measure the compiled model (as `kiln profile`, at `batch`): times in the report, a JSON `profile` field, a text table. */
  profile?: boolean;
}

/** A renderer: the inspection document in, the text of one format out. */
export type Renderer = (doc: GraphDoc) => string;

/**
 * Every format of `kiln inspect --format`. The HTML report (another module) registers itself as
 * `renderers.html = …`; a format with no entry is refused naming those there are.
 */
export const renderers: Record<string, Renderer> = {
  text: renderText,
  json: (doc) => JSON.stringify(doc, null, 2),
  dot: renderDot,
  mermaid: renderMermaid,
  // One self-contained page (cli/report/): graphs, details, kernel sources, charts, memory plan.
  html: (doc) => renderReport(doc),
};

/** Formats that want kernel sources in the document (the HTML report shows them). */
export const WANTS_SOURCES = new Set<string>(['html']);

/** Whether `file` is an emitted module (inspected through its manifest) rather than a model file. */
const isModule = (file: string) => /\.(mjs|js)$/.test(file);

/** The name of a package an import could not find, from Node's error ("Cannot find package 'kiln' imported from …"). */
function missingPackage(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  return /Cannot find (?:package|module) '([^']+)'/.exec((e as Error).message)?.[1] ?? '?';
}

/**
 * The `manifest` of an emitted module: read from its text (compiler/inspect/manifest-text.ts),
 * which needs nothing installed beside it; a module whose text does not declare it (bundled,
 * minified) is imported instead. Clear one-line errors when it has none or cannot be loaded.
 */
export async function readManifest(file: string): Promise<ModuleManifest> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KilnError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let m = manifestFromText(text, file) as ModuleManifest | undefined;
  if (m === undefined) {
    try {
      m = ((await import(pathToFileURL(path.resolve(file)).href)) as { manifest?: ModuleManifest }).manifest;
    } catch (e) {
      const pkg = missingPackage(e);
      if (pkg === undefined) throw e;
      throw new KilnError(`cannot load ${file} to read its manifest: it imports '${pkg}', which is not installed where the module is (install it there, or compile with --standalone)`);
    }
  }
  if (!m || m.format !== MANIFEST_FORMAT) throw new KilnError(`${file} has no Kiln manifest export (expected a module compiled by Kiln 0.1 or later: recompile it)`);
  return m;
}

/** A manifest as text: what the module is, its tensors, and each kernel with its layers. */
export function formatManifest(m: ModuleManifest): string {
  const tensor = (t: ModuleManifest['inputs'][number]) => `${sanitizeLine(t.name)}: ${t.dtype}[${t.shape.join(',')}]`;
  // GPU.js modules: the kernels that run Kiln's own WGSL on WebGPU are marked (the rest are GPU.js's).
  const wgsl = new Set(m.wgslKernels ?? []);
  const kernel = (k: ModuleManifest['kernels'][number]) => `  ${k.name}: ${sanitizeLine(k.ops)}${k.layers.length ? `  ${sanitizeLine(k.layers.join(', '))}` : ''}${wgsl.has(k.name) ? '  [WGSL on WebGPU]' : ''}`;
  return [
    `module ${sanitizeLine(JSON.stringify(m.model))} (backend ${m.backend}, Kiln ${sanitizeLine(m.compilerVersion)}, graph sha256:${sanitizeLine(m.graphHash)})`,
    `inputs: ${m.inputs.map(tensor).join(', ')}`,
    `outputs: ${m.outputs.map(tensor).join(', ')}`,
    `kernels (${m.kernels.length}):`,
    ...m.kernels.map(kernel),
    ...(m.trainerKernels ? [`trainer kernels (${m.trainerKernels.length}):`, ...m.trainerKernels.map(kernel)] : []),
  ].join('\n');
}

function rendererFor(format: string): Renderer {
  if (!Object.hasOwn(renderers, format)) throw new KilnError(`unknown format '${format}' (available: ${Object.keys(renderers).join(', ')})`);
  return renderers[format];
}

/** The inspection document of a model file (pure beyond loading the file). */
export async function inspectDoc(file: string, o: InspectOptions): Promise<GraphDoc> {
  const { graph } = await loadModel(file);
  const training = o.train ? { loss: resolveLoss(graph, o.loss ?? 'auto'), optimizer: resolveOptimizer(o.optimizer ?? 'adam', 1e-3) } : undefined;
  return buildGraphDoc(graph, { after: o.after, training, batch: o.batch, sources: o.sources || WANTS_SOURCES.has(o.format ?? 'text') });
}

/** Formats that can carry a profile's times, and how. */
const WITH_PROFILE: Readonly<Record<string, (doc: GraphDoc, report: ProfileReport) => string>> = {
  html: (doc, report) => renderReport(doc, report),
  json: (doc, report) => JSON.stringify({ ...doc, profile: report }, null, 2),
  text: (doc, report) => `${renderText(doc)}\n\n${formatProfile(report)}`,
};

/** `kiln inspect --profile`: the document with the times `kiln profile` measures at `--batch` (the training step's with `--train`). */
async function withProfile(file: string, format: string, o: InspectOptions): Promise<string> {
  if (!Object.hasOwn(WITH_PROFILE, format)) throw new KilnError(`kiln inspect --profile: times are shown in --format ${Object.keys(WITH_PROFILE).join(', ')} (got '${format}')`);
  const doc = await inspectDoc(file, o);
  const report = await profileModel(file, { train: o.train, batch: o.batch, optimizer: o.optimizer, loss: o.loss });
  return WITH_PROFILE[format](doc, report);
}

/** `kiln inspect`: the text of the format asked for; with `--out`, written there (atomically) and a line saying so. */
export async function inspectCommand(file: string, o: InspectOptions): Promise<string> {
  const format = o.format ?? 'text';
  let text: string;
  if (isModule(file)) {
    if (o.profile) throw new KilnError(`kiln inspect --profile compiles and runs the model with timing: give the model file (.ts, .onnx, .json), not an emitted module`);
    if (format !== 'text' && format !== 'json') throw new KilnError(`an emitted module is inspected through its manifest: --format text or json (the graph formats need the model file)`);
    const m = await readManifest(file);
    text = format === 'json' ? JSON.stringify(m, null, 2) : formatManifest(m);
  } else if (o.profile) {
    text = await withProfile(file, format, o);
  } else {
    const render = rendererFor(format);
    text = render(await inspectDoc(file, o));
  }
  if (!o.out) return text;
  writeFileAtomicSync(o.out, text.endsWith('\n') ? text : text + '\n');
  return `wrote ${o.out}`;
}
