// `kiln inspect --profile`: the inspection document with the times `kiln profile` measures, in the
// HTML report (embedded beside the document), as a JSON `profile` field, and as a text table.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectCommand } from '../../cli/inspect.ts';
import { compileModel } from '../../compiler/compile.ts';
import type { GraphDoc } from '../../compiler/inspect/graph-doc.ts';
import type { ProfileReport } from '../../compiler/inspect/profile.ts';
import { freshOutDir, kiln, loadExampleGraph, ROOT, showRun } from '../e2e/helpers.ts';

const CNN = path.join(ROOT, 'examples', 'cnn.ts');

describe('kiln inspect --profile', () => {
  it('--format html: the report embeds the profile of every kernel of the document, measured at --batch', async () => {
    const file = path.join(freshOutDir('inspect-profile-html'), 'cnn.html');
    expect(await inspectCommand(CNN, { format: 'html', profile: true, batch: 4, out: file })).toBe(`wrote ${file}`);
    const embedded = readFileSync(file, 'utf8').match(/<script type="application\/json" id="kiln-data">(.*)<\/script>/)![1];
    const { doc, profile } = JSON.parse(embedded) as { doc: GraphDoc; profile: ProfileReport | null };
    expect(profile).not.toBeNull();
    expect(profile!.batch).toBe(4);
    expect(profile!.kernels.map((k) => k.name).sort()).toEqual(doc.kernels.map((k) => k.name).sort());
    expect(profile!.kernels.every((k) => k.calls > 0 && k.ms > 0)).toBe(true);
  });

  it('--train --format json: the document with a profile of the training step whose kernels are the step\'s', async () => {
    const doc = JSON.parse(await inspectCommand(CNN, { format: 'json', profile: true, train: true, batch: 4 })) as GraphDoc & { profile: ProfileReport };
    expect(doc.profile.train).toBe(true);
    expect(doc.profile.kernels.map((k) => k.name).sort()).toEqual(doc.training!.kernels.map((k) => k.name).sort());
  });

  it('is refused for dot and mermaid and for an emitted module, naming why', async () => {
    await expect(inspectCommand(CNN, { format: 'dot', profile: true })).rejects.toThrow(/times are shown in --format html, json, text \(got 'dot'\)/);
    const file = path.join(freshOutDir('inspect-profile-module'), 'mlp.mjs');
    writeFileSync(file, compileModel(await loadExampleGraph('mlp')).js);
    await expect(inspectCommand(file, { profile: true })).rejects.toThrow(/--profile compiles and runs the model with timing: give the model file/);
  });

  it('runs as a process: text is the graph, then the kernels slowest first', async () => {
    const r = await kiln('inspect', 'examples/mlp.ts', '--profile', '--batch', '4');
    expect(r.status, showRun(r)).toBe(0);
    const graphAt = r.stdout.indexOf('dense_1');
    const kernelsAt = r.stdout.indexOf('Kernels (slowest first)');
    expect(graphAt).toBeGreaterThanOrEqual(0);
    expect(kernelsAt).toBeGreaterThan(graphAt);
  });
});
