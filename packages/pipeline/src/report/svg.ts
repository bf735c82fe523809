// Small, dependency-free SVG charts for the self-contained report: a line chart (loss curves) and a scatter plot
// (forget quality vs model utility). Output is plain SVG markup, inlined in the HTML and written beside the Markdown.

export interface Series {
  name: string;
  points: readonly [number, number][];
}

export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
  group: string;
  /** A reference point (e.g. the retain-only model): drawn as a larger black-edged diamond. */
  reference?: boolean;
}

/** A dashed horizontal reference line across a scatter plot (e.g. the retain-only model's utility). */
export interface ReferenceLine {
  y: number;
  label: string;
}

export interface AxisOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

/** A colour-blind-safe palette (Okabe–Ito), cycled. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** ~`count` round tick values covering [lo, hi] (1-2-5 steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo === hi) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).reduce((best, s) => (Math.abs(Math.log(s / raw)) < Math.abs(Math.log(best / raw)) ? s : best));
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function tickLabel(v: number, log: boolean): string {
  if (log) return `1e${Math.round(v)}`;
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-2 ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

interface Frame {
  svgOpen: string;
  x: (v: number) => number;
  y: (v: number) => number;
  axes: string;
}

const MARGIN = { left: 64, right: 16, top: 36, bottom: 48 };

function frame(o: AxisOptions, xs: number[], ys: number[], legendWidth: number): Frame {
  const width = o.width ?? 560;
  const height = o.height ?? 340;
  const tx = (v: number) => (o.logX ? Math.log10(v) : v);
  const ty = (v: number) => (o.logY ? Math.log10(v) : v);
  const fx = xs.map(tx).filter(Number.isFinite);
  const fy = ys.map(ty).filter(Number.isFinite);
  let [x0, x1] = fx.length ? [Math.min(...fx), Math.max(...fx)] : [0, 1];
  let [y0, y1] = fy.length ? [Math.min(...fy), Math.max(...fy)] : [0, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const padY = (y1 - y0) * 0.05;
  y0 -= padY;
  y1 += padY;
  if (o.logX) [x0, x1] = [Math.floor(x0), Math.ceil(x1)];
  // room for a marker at the right edge (forget quality 1 = 1e0 on a log axis would be cut in half)
  if (o.logX && fx.length) {
    const pad = (x1 - x0) * 0.05;
    if (x1 - Math.max(...fx) < pad) x1 += pad;
    if (Math.min(...fx) - x0 < pad) x0 -= pad;
  }
  const plotW = width - MARGIN.left - MARGIN.right - legendWidth;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + ((tx(v) - x0) / (x1 - x0)) * plotW;
  const y = (v: number) => MARGIN.top + plotH - ((ty(v) - y0) / (y1 - y0)) * plotH;
  const xt = o.logX ? niceTicks(x0, x1, Math.min(8, x1 - x0)).filter((t) => Number.isInteger(t)) : niceTicks(x0, x1);
  const yt = niceTicks(y0, y1);
  const parts: string[] = [];
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#999"/>`);
  for (const t of xt) {
    const px = MARGIN.left + ((t - x0) / (x1 - x0)) * plotW;
    parts.push(`<line x1="${px.toFixed(1)}" y1="${MARGIN.top}" x2="${px.toFixed(1)}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${px.toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(tickLabel(t, !!o.logX))}</text>`);
  }
  for (const t of yt) {
    const py = MARGIN.top + plotH - ((t - y0) / (y1 - y0)) * plotH;
    parts.push(`<line x1="${MARGIN.left}" y1="${py.toFixed(1)}" x2="${MARGIN.left + plotW}" y2="${py.toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${(py + 4).toFixed(1)}" text-anchor="end">${escapeXml(tickLabel(t, !!o.logY))}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
  );
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-weight="bold" font-size="14">${escapeXml(o.title)}</text>`);
  const svgOpen =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif" font-size="11" role="img" aria-label="${escapeXml(o.title)}">`;
  return { svgOpen, x, y, axes: parts.join('') };
}

function legend(names: string[], left: number, markers: 'line' | 'dot'): string {
  return names
    .map((n, i) => {
      const y = MARGIN.top + 8 + i * 16;
      const c = PALETTE[i % PALETTE.length];
      const mark =
        markers === 'line'
          ? `<line x1="${left}" y1="${y}" x2="${left + 16}" y2="${y}" stroke="${c}" stroke-width="2"/>`
          : `<circle cx="${left + 8}" cy="${y}" r="4" fill="${c}"/>`;
      return `${mark}<text x="${left + 22}" y="${y + 4}">${escapeXml(n)}</text>`;
    })
    .join('');
}

const legendWidthFor = (names: string[]) => (names.length ? Math.min(220, 30 + 6.2 * Math.max(...names.map((n) => n.length))) : 0);

/** One polyline per series (e.g. the loss of each run against its step). Non-finite points are skipped. */
export function lineChart(series: readonly Series[], o: AxisOptions): string {
  const ok = (p: readonly [number, number]) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!o.logY || p[1] > 0);
  const clean = series.map((s) => ({ name: s.name, points: s.points.filter(ok) }));
  const names = clean.map((s) => s.name);
  const lw = legendWidthFor(names);
  const f = frame(o, clean.flatMap((s) => s.points.map((p) => p[0])), clean.flatMap((s) => s.points.map((p) => p[1])), lw);
  const lines = clean
    .map((s, i) => {
      const d = s.points.map((p) => `${f.x(p[0]).toFixed(1)},${f.y(p[1]).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.8" points="${d}"><title>${escapeXml(s.name)}</title></polyline>`;
    })
    .join('');
  const width = o.width ?? 560;
  return `${f.svgOpen}${f.axes}${lines}${legend(names, width - MARGIN.right - lw + 8, 'line')}</svg>`;
}

/**
 * Points coloured by group, each with a hover title; reference points as diamonds, reference lines dashed. Points that
 * cannot be placed (log of ≤ 0, NaN) are dropped.
 */
export function scatterPlot(points: readonly ScatterPoint[], o: AxisOptions & { lines?: readonly ReferenceLine[] }): string {
  const ok = (p: ScatterPoint) =>
    Number.isFinite(p.x) && Number.isFinite(p.y) && (!o.logX || p.x > 0) && (!o.logY || p.y > 0);
  const clean = points.filter(ok);
  const lines = (o.lines ?? []).filter((l) => Number.isFinite(l.y));
  const groups = [...new Set(clean.map((p) => p.group))];
  const lw = legendWidthFor(groups);
  const f = frame(o, clean.map((p) => p.x), [...clean.map((p) => p.y), ...lines.map((l) => l.y)], lw);
  const width = o.width ?? 560;
  const right = width - MARGIN.right - lw;
  const refs = lines
    .map((l) => {
      const y = f.y(l.y).toFixed(1);
      return `<g class="reference-line"><line x1="${MARGIN.left}" y1="${y}" x2="${right}" y2="${y}" stroke="#555" stroke-dasharray="5 4"/>` +
        `<text x="${MARGIN.left + 4}" y="${(Number(y) - 4).toFixed(1)}" fill="#555">${escapeXml(l.label)}</text></g>`;
    })
    .join('');
  const dots = clean
    .map((p) => {
      const c = PALETTE[groups.indexOf(p.group) % PALETTE.length];
      const title = `<title>${escapeXml(`${p.label}: x=${p.x.toPrecision(3)}, y=${p.y.toPrecision(3)}`)}</title>`;
      const cx = f.x(p.x), cy = f.y(p.y);
      if (p.reference) {
        const d = 8;
        return `<path class="reference-point" data-label="${escapeXml(p.label)}" d="M${cx.toFixed(1)} ${(cy - d).toFixed(1)}L${(cx + d).toFixed(1)} ${cy.toFixed(1)}L${cx.toFixed(1)} ${(cy + d).toFixed(1)}L${(cx - d).toFixed(1)} ${cy.toFixed(1)}Z" fill="${c}" stroke="#000" stroke-width="1.5">${title}</path>`;
      }
      return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="5" fill="${c}" fill-opacity="0.85" stroke="#333" stroke-width="0.5">${title}</circle>`;
    })
    .join('');
  return `${f.svgOpen}${f.axes}${refs}${dots}${legend(groups, right + 8, 'dot')}</svg>`;
}
