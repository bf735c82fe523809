import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { niceTicks, renderHtml, renderMarkdown, scatterPlot, writeReport, type ReportInput } from '@unlearn/pipeline';
import { findChromium, screenshotHtml } from './screenshot.js';

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
    expect(md).toContain('| npo-sophia | npo + sophia | 1e-4 | 20 | 12.3 | 0.12 | 0.38 | 0.31 | -12.5 |');
    expect(md).toContain('| target | target (before unlearning) | — | — | — | 2e-6 | 0.41 | 0.93 | — |');
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
});
