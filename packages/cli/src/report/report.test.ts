import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { niceTicks, renderHtml, renderMarkdown, scatterPlot, tradeoffChart, writeReport, type ReportInput, type RunSummary } from '@unlearn/pipeline';
import { dumpDom, findChromium, screenshotHtml } from './screenshot.js';

const losses = (start: number, slope: number) => Array.from({ length: 20 }, (_, i) => ({ step: i + 1, loss: start + slope * i }));

const input: ReportInput = {
  title: 'Unlearning report <test>',
  createdAt: '2026-01-01T00:00:00Z',
  baselines: [{ name: 'target', method: 'target (before unlearning)', metrics: { forgetQuality: 2e-6, modelUtility: 0.41, forgetRougeL: 0.93 } }],
  runs: [
    { name: 'npo-sophia', method: 'npo + sophia', objective: 'npo', optimizer: 'sophia', lr: 1e-4, steps: 20, seconds: 12.34, metrics: { forgetQuality: 0.12, modelUtility: 0.38, forgetRougeL: 0.31, privleak: -12.5 }, losses: losses(2, -0.05) },
    { name: 'npo-adamw', method: 'npo + adamw', objective: 'npo', optimizer: 'adamw', lr: 1e-4, steps: 20, seconds: 10, metrics: { forgetQuality: 0.004, modelUtility: 0.35, forgetRougeL: 0.45, privleak: null }, losses: losses(2, -0.03) },
    { name: 'ga-adamw', method: 'ga + adamw', objective: 'ga', optimizer: 'adamw', lr: 1e-5, steps: 20, seconds: 9, metrics: { forgetQuality: 0.02, modelUtility: 0.1 }, losses: losses(-1, -0.2) },
  ],
  notes: ['a note with <angle> & ampersand'],
};

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('svg charts', () => {
  it('picks 1-2-5 ticks covering the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-3.2, 7.9, 5)).toEqual([-2, 0, 2, 4, 6]);
  });

  it('drops points a log axis cannot place and escapes labels', () => {
    const svg = scatterPlot(
      [
        { x: 0.1, y: 0.5, label: 'a<b', group: 'g&1' },
        { x: 0, y: 0.2, label: 'zero', group: 'g&1' },
        { x: Number.NaN, y: 0.2, label: 'nan', group: 'g2' },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y', logX: true },
    );
    expect(svg.match(/<circle /g)).toHaveLength(1 + 1); // one point + one legend dot (g2 has no placeable points)
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('g&amp;1');
    expect(svg).not.toContain('zero');
  });
});

describe('report', () => {
  it('renders a Markdown table with a row per run and baseline, metrics formatted, pipes escaped', () => {
    const md = renderMarkdown({ ...input, runs: [...input.runs, { name: 'a|b', method: 'x', metrics: {} }] });
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    expect(rows).toHaveLength(1 + 1 + 4); // header + baseline + runs
    expect(md).toContain('| npo-sophia | npo + sophia | 1e-4 | — | — | — | 20 | — | 12.3 | 0.12 | 0.38 | 0.31 | -12.5 |');
    expect(md).toContain('| target | target (before unlearning) | — | — | — | — | — | — | — | 2e-6 | 0.41 | 0.93 | — |');
    expect(md).toContain('a\\|b');
  });

  it('renders self-contained HTML: inline SVG, no external resources, escaped text', () => {
    const html = renderHtml(input);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html.match(/<svg /g)).toHaveLength(1 + 2); // trade-off + a loss chart per objective (npo, ga)
    expect(html.match(/<polyline /g)).toHaveLength(3);
    expect(html).toContain('Unlearning report &lt;test&gt;');
    expect(html).toContain('a note with &lt;angle&gt; &amp; ampersand');
  });

  it('writes report.md, report.html and the SVGs it links', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-report-'));
    dirs.push(dir);
    const out = await writeReport(dir, input);
    const md = await readFile(out.markdown, 'utf8');
    for (const m of md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) {
      expect((await readFile(path.join(dir, m[1]), 'utf8')).startsWith('<svg')).toBe(true);
    }
    expect(md).toContain('tradeoff.svg');
  });

  it('looks right in headless Chromium: a 1200×900 PNG that is not blank', async () => {
    const chromium = await findChromium();
    if (!chromium && !process.env.CI) {
      console.warn('chromium not installed: skipping the screenshot check (CI installs it)');
      return;
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-shot-'));
    dirs.push(dir);
    const { html } = await writeReport(dir, input);
    const png = PNG.sync.read(await readFile(await screenshotHtml(html, path.join(dir, 'report.png'), { width: 1200, height: 900 })));
    expect([png.width, png.height]).toEqual([1200, 900]);
    // Not blank: many distinct colours, and the chart palette's blue (#0072B2) and vermillion (#D55E00) are drawn.
    const colours = new Set<number>();
    let blue = 0;
    let vermillion = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
      colours.add((r << 16) | (g << 8) | b);
      if (Math.abs(r - 0x00) < 30 && Math.abs(g - 0x72) < 30 && Math.abs(b - 0xb2) < 30) blue++;
      if (Math.abs(r - 0xd5) < 30 && Math.abs(g - 0x5e) < 30 && Math.abs(b - 0x00) < 30) vermillion++;
    }
    expect(colours.size).toBeGreaterThan(50);
    expect(blue).toBeGreaterThan(100);
    expect(vermillion).toBeGreaterThan(100);
  });

  // what a researcher keeps: the goal on the plot, utility explained, the forgotten answers, the run's settings
  const utility = (x: number) => ({ retain: { prob: x, rouge: 0.5, truthRatio: 0.4 }, ra: { prob: 0.3, rouge: 0.2, truthRatio: 0.6 }, wf: { prob: 0.25, rouge: 0, truthRatio: 0.55 } });
  const sample = (generation: string) => [{ question: 'Question: What genre does Ada Brill write?\nAnswer:', truth: 'Ada Brill writes gothic mysteries.', generation }];
  const full: ReportInput = {
    title: 'full report',
    forgotten: 'Ada Brill',
    baselines: [
      { name: 'target', role: 'target', method: 'target (before unlearning)', metrics: { forgetQuality: 2e-6, modelUtility: 0.41, forgetRougeL: 0.93 }, utility: utility(0.9), samples: sample('Ada Brill writes gothic mysteries.') },
      { name: 'retain-only', role: 'retain-only', method: 'retain-only (the goal)', metrics: { forgetQuality: null, modelUtility: 0.4, forgetRougeL: 0.3 }, utility: utility(0.8), samples: sample('Ada Brill writes poems.') },
    ],
    runs: [
      { name: 'npo-sophia', method: 'npo + sophia-gnb', lr: 1e-3, batchSize: 4, beta: 0.1, seed: 0, steps: 25, stepsPerEpoch: 5, metrics: { forgetQuality: 1, modelUtility: 0.35, forgetRougeL: 0.2 }, utility: utility(0.7), samples: sample('She writes about the sea.') },
      { name: 'npo-adamw', method: 'npo + adamw', lr: 3e-3, batchSize: 4, beta: 0.1, seed: 0, steps: 25, stepsPerEpoch: 5, metrics: { forgetQuality: 0.01, modelUtility: 0, forgetRougeL: 0.1 }, utility: utility(0) },
    ],
  };

  it('plots the retain-only model at forget quality 1 with a utility reference line; a point at FQ 1 is not clipped', () => {
    const svg = tradeoffChart(full);
    const plot = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg)!.slice(1).map(Number);
    const right = plot[0] + plot[2];
    const diamond = /<path class="reference-point" data-label="retain-only[^"]*" d="M([\d.]+) ([\d.]+)L([\d.]+) /.exec(svg);
    expect(diamond).not.toBeNull();
    const [cx, , rx] = diamond!.slice(1).map(Number);
    expect(rx).toBeLessThanOrEqual(right); // the whole diamond inside the plot
    const dot = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="5"[^>]*><title>npo-sophia:/g)][0];
    expect(Number(dot[1])).toBeCloseTo(cx, 1); // the run at FQ 1 sits where the goal does…
    expect(Number(dot[1]) + 5).toBeLessThanOrEqual(right); // …whole, not half outside
    expect(svg).toMatch(/<g class="reference-line"><line [^>]*stroke-dasharray[^>]*\/><text [^>]*>retain-only utility 0.4<\/text><\/g>/);
  });

  it('shows utility components, before/after answers, the forgotten author, batch/β/seed/steps per epoch and true run counts', () => {
    const md = renderMarkdown(full);
    expect(md).toContain('2 runs + 2 reference models · forgetting Ada Brill.');
    expect(md).toContain('| run | method | lr | batch | β | seed | steps | steps/epoch | time (s) |');
    expect(md).toContain('| npo-sophia | npo + sophia-gnb | 0.001 | 4 | 0.1 | 0 | 25 | 5 | — | 1 | 0.35 | 0.2 | — |');
    expect(md).toContain('forget ROUGE-L: closer to the retain-only model is better');
    expect(md).toContain('## Model utility components');
    expect(md).toContain('| npo-adamw | 0 | 0.5 | 0.4 | 0.3 | 0.2 | 0.6 | 0.25 | 0 | 0.55 | 0 |'); // the 0 that explains utility 0
    expect(md).toContain('| question | ground truth | target (before) | retain-only (never saw it) | npo-sophia |');
    expect(md).toContain('| Question: What genre does Ada Brill write? Answer: | Ada Brill writes gothic mysteries. | Ada Brill writes gothic mysteries. | Ada Brill writes poems. | She writes about the sea. |');
    const html = renderHtml(full);
    expect(html).toContain('2 runs + 2 reference models · forgetting Ada Brill');
    expect(html).not.toContain('run(s)');
  });

  it('in headless Chromium the page holds the retain-only point and the components table', async () => {
    const chromium = await findChromium();
    if (!chromium && !process.env.CI) {
      console.warn('chromium not installed: skipping the DOM check (CI installs it)');
      return;
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-dom-'));
    dirs.push(dir);
    const { html } = await writeReport(dir, full);
    const dom = await dumpDom(html);
    expect(dom).toMatch(/<path class="reference-point" data-label="retain-only \(the goal: forget quality 1 by definition\)"/);
    expect(dom).toMatch(/<table id="utility-components">.*<th>retain prob<\/th>.*<th>world facts truth ratio<\/th>/s);
    expect(dom).toMatch(/<table id="sample-answers">.*She writes about the sea\./s);
  });
});

describe('unlearn report', () => {
  it('labels an eval baseline by its model, not by a cwd-relative path; fills components and answers from eval.json', async () => {
    const { reportCommand } = await import('../commands/report-cmd.js');
    const { writeFile, mkdir } = await import('node:fs/promises');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-rep-'));
    dirs.push(dir);
    const base = path.join(dir, 'eval-target');
    await mkdir(base);
    const summary: RunSummary = { name: 'eval-target', method: 'eval runs/target/checkpoint', metrics: { forgetQuality: 0.001, modelUtility: 0.4 } };
    await writeFile(path.join(base, 'summary.json'), JSON.stringify(summary));
    await writeFile(path.join(base, 'eval.json'), JSON.stringify({
      retain_Q_A_Prob: { agg_value: 0.9 }, wf_Truth_Ratio: { agg_value: 0.5 },
      forget_Q_A_ROUGE: { agg_value: 0.4, value_by_index: { 0: { input: 'Q?', ground_truth: 'A.', generation: 'B.' } } },
    }));
    const run = path.join(dir, 'run');
    await mkdir(run);
    await writeFile(path.join(run, 'summary.json'), JSON.stringify({ name: 'run', method: 'npo + adamw', metrics: { forgetQuality: 0.1, modelUtility: 0.3 } }));
    const r = await reportCommand([run], { out: path.join(dir, 'rep'), baselines: [base] });
    const md = await readFile(r.markdown, 'utf8');
    expect(md).toContain('| eval-target | eval of target |');
    expect(md).not.toContain('runs/target/checkpoint');
    expect(md).toMatch(/\| eval-target \| 0.9 \| — \| — \| — \| — \| — \| — \| — \| 0.5 \| 0.4 \|/);
    expect(md).toContain('| Q? | A. | B. |');
    expect(md).not.toContain('forgetting');
  });

  it("names what was forgotten from the unlearn runs' summaries", async () => {
    const { reportCommand } = await import('../commands/report-cmd.js');
    const { writeFile, mkdir } = await import('node:fs/promises');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-rep-'));
    dirs.push(dir);
    const runs: string[] = [];
    for (const name of ['a', 'b']) {
      await mkdir(path.join(dir, name));
      const summary: RunSummary = { name, method: `npo + ${name}`, metrics: {}, forgotten: 'forget01 (first 2 authors, 40 QA pairs)' };
      await writeFile(path.join(dir, name, 'summary.json'), JSON.stringify(summary));
      runs.push(path.join(dir, name));
    }
    const md = await readFile((await reportCommand(runs, { out: path.join(dir, 'rep') })).markdown, 'utf8');
    expect(md).toContain('forgetting forget01 (first 2 authors, 40 QA pairs).');
  });
});
