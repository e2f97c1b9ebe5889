// The HTML inspection report: one self-contained page (no network) from an inspection document
// (compiler/inspect/graph-doc.ts) and optionally a profile. The page's script and style are plain
// assets beside this file (graph-view.js, page.js, page.css); dagre, the layout library, is read from
// node_modules; all are inlined when the report is written.
import { existsSync, readFileSync } from 'node:fs';
import { resolveOptional } from '../../runtime/optional-package.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GraphDoc } from '../../compiler/inspect/graph-doc.ts';
import type { ProfileReport } from '../../compiler/inspect/profile.ts';
import { writeFileAtomicSync } from '../../runtime/atomic-write.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { COMPILER_VERSION } from '../../src/version.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The page's assets, in the order they are inlined. */
export const REPORT_ASSETS = ['page.css', 'graph-view.js', 'page.js'] as const;

/**
 * An asset's text: beside this module (sources, or dist/cli/report when the build copies them),
 * else in the package's own cli/report (a checkout running from dist/).
 */
function readAsset(name: string): string {
  const candidates = [path.join(HERE, name), path.resolve(HERE, '../../../cli/report', name)];
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new KilnError(`the HTML report's asset ${name} is missing (looked in ${candidates.join(', ')}); reinstall Kiln`);
  return readFileSync(found, 'utf8');
}

/** dagre's browser build (it defines the global `dagre`), without its source-map comment. */
function readDagre(): string {
  // An optional peer (3 MB with graphlib): only this report needs it, so a plain install leaves it out.
  const main = resolveOptional('@dagrejs/dagre', 'kiln inspect --format html (the graph layout)');
  const file = path.join(path.dirname(main), 'dagre.min.js');
  if (!existsSync(file)) throw new KilnError(`the HTML report needs @dagrejs/dagre's dist/dagre.min.js (not found at ${file}); reinstall Kiln`);
  return readFileSync(file, 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
}

/** Text for inside <script> or <style>: no sequence there may end the element or open a comment. */
export function inlineSafe(code: string): string {
  return code.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON for a <script type="application/json"> element: `<`, `>`, `&` and line separators as \u escapes (still the same JSON). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The report's page as one string. `doc` should carry kernel sources (buildGraphDoc's `sources: true`). */
export function renderReport(doc: GraphDoc, profile?: ProfileReport): string {
  const data = { doc, profile: profile ?? null, compilerVersion: COMPILER_VERSION };
  const [css, graphView, page] = REPORT_ASSETS.map(readAsset);
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // No network: everything the page uses is inline; the policy makes sure nothing else loads.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(`Kiln report: ${doc.model}`)}</title>`,
    `<style>${inlineSafe(css)}</style>`,
    '</head>',
    '<body>',
    `<script type="application/json" id="kiln-data">${jsonForScript(data)}</script>`,
    `<script>${inlineSafe(readDagre())}</script>`,
    `<script>${inlineSafe(graphView)}\n${inlineSafe(page)}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Writes the report to `file` atomically. */
export function writeReport(file: string, doc: GraphDoc, profile?: ProfileReport): void {
  writeFileAtomicSync(file, renderReport(doc, profile));
}
