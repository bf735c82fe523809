// The attack's own report beside the run report: attack.md + attack.html (self-contained) and recovery.svg — for
// relearn the forget probability (and the other knowledge metrics) of the unlearned and the retain-only model against
// the relearning step; for quantize / prefix the metric under each variant (x = variant number, fp32 / none = 0).
import path from 'node:path';
import { writeFileAtomic } from '@unlearn/tensors';
import type { AttackOutcome } from '../attack.js';
import { escapeXml, lineChart, type Series } from './svg.js';

const fmt = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? String(Number(v.toPrecision(4))) : '—');

/** The recovery plot(s): one SVG per knowledge metric present (forget probability first). */
export function recoveryCharts(o: AttackOutcome): { id: string; svg: string }[] {
  const metrics = ['forgetProb', 'forgetProbHeldOut', 'forgetRougeL'];
  const out: { id: string; svg: string }[] = [];
  for (const m of metrics) {
    const series: Series[] = [];
    if (o.curves) {
      for (const [name, curve] of [['unlearned', o.curves.unlearned], ['retain-only', o.curves.retainOnly]] as const) {
        const pts = curve.filter((p) => typeof p.metrics[m] === 'number').map((p) => [p.step, p.metrics[m] as number] as [number, number]);
        if (pts.length) series.push({ name, points: pts });
      }
    } else if (o.variants) {
      for (const who of ['unlearned', 'retainOnly'] as const) {
        const pts = o.variants.map((v, i) => [i, v[who]?.[m]] as const).filter((p): p is readonly [number, number] => typeof p[1] === 'number').map((p) => [p[0], p[1]] as [number, number]);
        // a retain-only model measured once (fp32 / no attack) is drawn as a level across all variants
        const level = pts.length === 1 && who === 'retainOnly' && o.variants.length > 1;
        const points: [number, number][] = level ? [[0, pts[0][1]], [o.variants.length - 1, pts[0][1]]] : pts;
        if (pts.length) series.push({ name: who === 'retainOnly' ? (level ? `retain-only (${o.variants[pts[0][0]].name})` : 'retain-only') : 'unlearned', points });
      }
    }
    if (!series.length) continue;
    const xLabel = o.curves ? 'relearning step' : `variant: ${o.variants!.map((v, i) => `${i} = ${v.name}`).join(', ')}`;
    out.push({ id: `recovery-${m}`, svg: lineChart(series, { title: `${m} under attack ${o.kind}`, xLabel, yLabel: m, width: 640 }) });
  }
  return out;
}

export function renderAttackMarkdown(o: AttackOutcome, images: string[]): string {
  const lines = [`# attack ${o.kind}`, '', `Unlearned model: \`${o.model}\`; retain-only model: ${o.retainModel ? `\`${o.retainModel}\`` : '— (none given)'}.`, ''];
  for (const w of o.warnings) lines.push(`> warning: ${w}`, '');
  lines.push(`Settings: \`${JSON.stringify(o.settings)}\``, '');
  const cols = ['forgetProb', 'forgetProbHeldOut', 'forgetRougeL', 'forgetTruthRatio', 'extractionStrength', 'forgetQuality', 'modelUtility'];
  if (o.curves) {
    const present = cols.filter((c) => o.curves!.unlearned.some((p) => c in p.metrics));
    lines.push(`| model | step | ${present.join(' | ')} |`, `|---|---:|${present.map(() => '---:').join('|')}|`);
    for (const [name, curve] of [['unlearned', o.curves.unlearned], ['retain-only', o.curves.retainOnly]] as const) {
      for (const p of curve) lines.push(`| ${name} | ${p.step} | ${present.map((c) => fmt(p.metrics[c])).join(' | ')} |`);
    }
  } else if (o.variants) {
    const present = cols.filter((c) => o.variants!.some((v) => c in v.unlearned));
    lines.push(`| variant | model | ${present.join(' | ')} |`, `|---|---|${present.map(() => '---:').join('|')}|`);
    for (const v of o.variants) {
      lines.push(`| ${v.name} | unlearned | ${present.map((c) => fmt(v.unlearned[c])).join(' | ')} |`);
      if (v.retainOnly) lines.push(`| ${v.name} | retain-only | ${present.map((c) => fmt(v.retainOnly![c])).join(' | ')} |`);
    }
  }
  lines.push('', '## Scores', '', 'Q = 1 − |m_after − m_before| / (|m_before| + |m_after|) (1 = unmoved); R = min(Δ_retain-only / Δ_unlearned, 1) (1 = relearns no faster than a model that never knew).', '');
  for (const [k, v] of Object.entries(o.scores)) lines.push(`- ${k}: ${fmt(v)}`);
  lines.push('');
  for (const img of images) lines.push(`![${img}](${img})`, '');
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

/** Writes attack.md, attack.html and the recovery SVGs into `dir`. */
export async function writeAttackReport(dir: string, o: AttackOutcome): Promise<{ markdown: string; html: string; files: string[] }> {
  const charts = recoveryCharts(o);
  const files: string[] = [];
  for (const c of charts) {
    const f = path.join(dir, `${c.id}.svg`);
    await writeFileAtomic(f, c.svg);
    files.push(f);
  }
  const md = renderAttackMarkdown(o, charts.map((c) => `${c.id}.svg`));
  const markdown = path.join(dir, 'attack.md');
  await writeFileAtomic(markdown, md);
  const html = path.join(dir, 'attack.html');
  await writeFileAtomic(html, renderAttackHtml(o, md, charts.map((c) => c.svg)));
  files.push(markdown, html);
  return { markdown, html, files };
}

/** The Markdown's headings, paragraphs, tables and lists as HTML (the only constructs it uses), then the charts inline. */
export function renderAttackHtml(o: AttackOutcome, markdown: string, svgs: string[]): string {
  const out: string[] = [];
  const inline = (t: string) => escapeXml(t).replace(/`([^`]+)`/g, '<code>$1</code>');
  let table: string[][] | null = null;
  let list = false;
  const flush = () => {
    if (table) {
      const [head, , ...rows] = table;
      out.push(`<table><thead><tr>${head.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
      table = null;
    }
    if (list) out.push('</ul>');
    list = false;
  };
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      if (!table) flush();
      (table ??= []).push(line.slice(1, -1).split('|').map((c) => c.trim()));
      continue;
    }
    if (line.startsWith('- ')) {
      if (!list) {
        flush();
        out.push('<ul>');
        list = true;
      }
      out.push(`<li>${inline(line.slice(2))}</li>`);
      continue;
    }
    flush();
    if (line.startsWith('![') || line.trim() === '') continue;
    const h = /^(#+) (.*)$/.exec(line);
    if (h) out.push(`<h${h[1].length}>${inline(h[2])}</h${h[1].length}>`);
    else if (line.startsWith('> ')) out.push(`<p class="warn">${inline(line.slice(2))}</p>`);
    else out.push(`<p>${inline(line)}</p>`);
  }
  flush();
  const css = 'body{font-family:system-ui,sans-serif;max-width:1100px;margin:24px auto;color:#222}table{border-collapse:collapse;font-size:13px}' +
    'th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}.warn{color:#a40}svg{border:1px solid #ddd;margin:6px}';
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>attack ${escapeXml(o.kind)}</title><style>${css}</style></head>\n<body>\n${out.join('\n')}\n<div>${svgs.join('\n')}</div>\n</body></html>\n`;
}
