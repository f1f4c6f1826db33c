/**
 * Line plots as a standalone SVG string, without a plotting dependency: a row of panels sharing
 * one legend, linear axes from 0 with "nice" ticks. Enough for the README's benchmark figures.
 */

/** One line: its legend label and its points [x, y], drawn in x order. */
export interface Series {
  label: string;
  points: [number, number][];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const W = 320;
const H = 240;
const M = { left: 56, right: 12, top: 28, bottom: 40 };

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

/** Ticks 0, step, 2·step, … covering max, with step 1, 2 or 5 × 10^k and about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toPrecision(12)));
  return ticks;
}

function panel(p: Panel, x0: number): string {
  const points = p.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xt = niceTicks(Math.max(0, ...points.map(([x]) => x)));
  const yt = niceTicks(Math.max(0, ...points.map(([, y]) => y)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => x0 + M.left + (x / xt.at(-1)!) * pw;
  const sy = (y: number) => M.top + ph - (y / yt.at(-1)!) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + M.left + pw / 2}" y="16" text-anchor="middle" font-weight="bold">${xmlEscape(p.title)}</text>`);
  for (const t of yt) {
    out.push(`<line x1="${sx(0)}" x2="${sx(xt.at(-1)!)}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/>`);
    out.push(`<text x="${sx(0) - 4}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of xt) out.push(`<text x="${sx(t)}" y="${sy(0) + 14}" text-anchor="middle">${fmt(t)}</text>`);
  out.push(`<line x1="${sx(0)}" x2="${sx(xt.at(-1)!)}" y1="${sy(0)}" y2="${sy(0)}" stroke="#000"/>`);
  out.push(`<line x1="${sx(0)}" x2="${sx(0)}" y1="${sy(0)}" y2="${sy(yt.at(-1)!)}" stroke="#000"/>`);
  out.push(`<text x="${x0 + M.left + pw / 2}" y="${H - 8}" text-anchor="middle">${xmlEscape(p.xLabel)}</text>`);
  out.push(`<text transform="translate(${x0 + 14} ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${xmlEscape(p.yLabel)}</text>`);
  p.series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    const color = COLORS[i % COLORS.length];
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const [x, y] of pts)
      out.push(
        `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"><title>${xmlEscape(`${s.label}: ${fmt(x)}, ${fmt(y)}`)}</title></circle>`,
      );
  });
  return out.join('\n');
}

/** Panels side by side, one legend (the first panel's series labels) beneath them. */
export function svgLinePlots(panels: Panel[], opts: { title?: string } = {}): string {
  const top = opts.title ? 24 : 0;
  const labels = panels[0]?.series.map((s) => s.label) ?? [];
  const width = Math.max(1, panels.length) * W;
  const height = top + H + 24;
  const body = panels.map((p, i) => panel(p, i * W)).join('\n');
  const legend = labels
    .map((l, i) => {
      const x = 16 + i * 110;
      const c = COLORS[i % COLORS.length];
      return `<line x1="${x}" x2="${x + 20}" y1="${H + 12}" y2="${H + 12}" stroke="${c}" stroke-width="2"/><text x="${x + 24}" y="${H + 16}">${xmlEscape(l)}</text>`;
    })
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    opts.title ? `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${xmlEscape(opts.title)}</text>` : '',
    `<g transform="translate(0 ${top})">`,
    body,
    legend,
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}
