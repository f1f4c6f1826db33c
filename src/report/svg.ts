/** Small self-contained SVG charts for report.html (no script, no external files). */

const W = 360;
const H = 280;
const M = { left: 48, right: 12, top: 28, bottom: 40 };

export interface Series {
  name: string;
  x: number[];
  y: number[];
  colour: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function frame(
  title: string,
  xLabel: string,
  yLabel: string,
  xTicks: number[],
  yTicks: number[],
  sx: (v: number) => number,
  sy: (v: number) => number,
): string {
  const parts = [
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#888"/>`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle">${escapeHtml(xLabel)}</text>`,
    `<text x="12" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 12 ${(M.top + H - M.bottom) / 2})">${escapeHtml(yLabel)}</text>`,
  ];
  for (const t of xTicks) parts.push(`<text x="${sx(t).toFixed(1)}" y="${H - M.bottom + 14}" text-anchor="middle">${fmtTick(t, xTicks)}</text>`);
  for (const t of yTicks) parts.push(`<text x="${M.left - 4}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmtTick(t, yTicks)}</text>`);
  return parts.join('');
}

/** Enough decimals that neighbouring ticks read differently (whole numbers for wide spacings). */
function fmtTick(v: number, all: number[]): string {
  const step = all.length > 1 ? Math.abs(all[1] - all[0]) : 1;
  if (step >= 1 || v === Math.round(v)) return String(Math.round(v));
  const decimals = Math.min(6, Math.max(1, Math.ceil(-Math.log10(step)) + 1));
  return String(Number(v.toFixed(decimals)));
}

function ticks(lo: number, hi: number, n = 5): number[] {
  return Array.from({ length: n + 1 }, (_, i) => lo + ((hi - lo) * i) / n);
}

function svg(body: string, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(label)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">${body}</svg>`;
}

/** A line chart on axes [xMin, xMax] × [yMin, yMax] (default [0, xMax] × [0, 1]: ROC and PRO curves), with a legend. */
export function curveChart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  xMax: number;
  xMin?: number;
  yMin?: number;
  yMax?: number;
  series: Series[];
  diagonal?: boolean;
}): string {
  const [x0, y0, y1] = [opts.xMin ?? 0, opts.yMin ?? 0, opts.yMax ?? 1];
  const sx = (v: number) => M.left + ((v - x0) / (opts.xMax - x0 || 1)) * (W - M.left - M.right);
  const sy = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const body = [frame(opts.title, opts.xLabel, opts.yLabel, ticks(x0, opts.xMax), ticks(y0, y1), sx, sy)];
  if (opts.diagonal) body.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(opts.xMax)}" y2="${sy(opts.xMax)}" stroke="#ccc" stroke-dasharray="4 3"/>`);
  opts.series.forEach((s, k) => {
    const pts = s.x
      .map((x, i) => [x, s.y[i]])
      .filter(([, y]) => Number.isFinite(y))
      .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    body.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="1.6" points="${pts}"/>`);
    const ly = M.top + 14 + 14 * k;
    body.push(`<line x1="${W - 150}" y1="${ly - 4}" x2="${W - 132}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2"/>`);
    body.push(`<text x="${W - 128}" y="${ly}">${escapeHtml(s.name)}</text>`);
  });
  return svg(body.join(''), opts.title);
}

/** Overlaid histograms of good and defective image scores with the threshold as a vertical line. */
export function scoreHistogram(opts: { good: number[]; defective: number[]; threshold: number; thresholdLabel: string; bins?: number }): string {
  const all = [...opts.good, ...opts.defective, opts.threshold];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const bins = opts.bins ?? 30;
  const count = (v: number[]) => {
    const c = new Array<number>(bins).fill(0);
    for (const x of v) c[Math.min(bins - 1, Math.floor(((x - lo) / (hi - lo)) * bins))]++;
    return c;
  };
  const good = count(opts.good);
  const bad = count(opts.defective);
  const top = Math.max(1, ...good, ...bad);
  const sx = (v: number) => M.left + ((v - lo) / (hi - lo)) * (W - M.left - M.right);
  const sy = (v: number) => H - M.bottom - (v / top) * (H - M.top - M.bottom);
  const body = [frame('Image scores', 'raw score', 'images', ticks(lo, hi, 4), ticks(0, top, Math.min(4, top)), sx, sy)];
  const bw = (W - M.left - M.right) / bins;
  const bars = (c: number[], colour: string) =>
    c.forEach((n, i) => {
      if (n > 0)
        body.push(
          `<rect x="${(M.left + i * bw).toFixed(1)}" y="${sy(n).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - M.bottom - sy(n)).toFixed(1)}" fill="${colour}"/>`,
        );
    });
  bars(good, 'rgba(40,120,220,0.55)');
  bars(bad, 'rgba(220,60,40,0.55)');
  const tx = sx(opts.threshold).toFixed(1);
  body.push(`<line x1="${tx}" y1="${M.top}" x2="${tx}" y2="${H - M.bottom}" stroke="#000" stroke-dasharray="5 3"/>`);
  body.push(`<text x="${tx}" y="${M.top - 2}" text-anchor="middle">${escapeHtml(opts.thresholdLabel)}</text>`);
  body.push(`<text x="${W - 110}" y="${M.top + 14}" fill="rgb(40,120,220)">good (${opts.good.length})</text>`);
  body.push(`<text x="${W - 110}" y="${M.top + 28}" fill="rgb(220,60,40)">defective (${opts.defective.length})</text>`);
  return svg(body.join(''), 'Image scores');
}
